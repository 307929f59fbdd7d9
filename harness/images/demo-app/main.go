// demo-app: the small web app hardway's suites deploy to check Services, DNS, ConfigMaps, Secrets
// and rolling updates. Standard library only, so it builds without any module download.
//
//	GET /status, /status/  "ok" (readiness/liveness probes)
//	GET /whoami            the pod name
//	GET /                  an HTML page: pod, node, Host header, greeting, message, secret presence
//
// Every response carries "X-Served-By: <pod name>" so a client can tell which replica answered.
package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const (
	// The ConfigMap and the Secret are mounted here by the suites; read on each request so that
	// an updated ConfigMap shows without a restart.
	messageFile = "/etc/demo/message"
	secretFile  = "/etc/demo-secret/token"
)

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>hardway demo app</title></head>
<body>
<h1>hardway demo app</h1>
{{if .Greeting}}<p id="greeting">{{.Greeting}}</p>
{{end}}<table>
<tr><th>pod</th><td id="pod">{{.Pod}}</td></tr>
<tr><th>node</th><td id="node">{{.Node}}</td></tr>
<tr><th>host</th><td id="host">{{.Host}}</td></tr>
<tr><th>message</th><td id="message">{{.Message}}</td></tr>
<tr><th>secret</th><td id="secret">{{.Secret}}</td></tr>
</table>
</body></html>
`))

func podName() string {
	if n := os.Getenv("POD_NAME"); n != "" {
		return n
	}
	n, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return n
}

func main() {
	pod := podName()
	port := os.Getenv("PORT")
	if port == "" {
		port = "8000"
	}

	mux := http.NewServeMux()
	status := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok"))
	}
	mux.HandleFunc("GET /status", status)
	mux.HandleFunc("GET /status/{$}", status)
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(pod))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		message := "(none)"
		if b, err := os.ReadFile(messageFile); err == nil {
			message = strings.TrimSpace(string(b))
		}
		// Only whether the secret exists: its content must never reach a response or a log.
		secret := "absent"
		if _, err := os.Stat(secretFile); err == nil {
			secret = "present"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, map[string]string{
			"Greeting": os.Getenv("GREETING"),
			"Pod":      pod,
			"Node":     os.Getenv("NODE_NAME"),
			"Host":     r.Host,
			"Message":  message,
			"Secret":   secret,
		})
	})

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", pod)
		mux.ServeHTTP(w, r)
		// Probes would drown the log: only the other requests are logged.
		if !strings.HasPrefix(r.URL.Path, "/status") {
			log.Printf("%s %s %s", r.RemoteAddr, r.Method, r.URL.Path)
		}
	})
	srv := &http.Server{Addr: ":" + port, Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	// SIGTERM (kubelet stopping the pod): stop accepting, let requests in flight finish.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("demo-app: pod %s listening on :%s", pod, port)

	select {
	case err := <-errc:
		log.Fatalf("demo-app: %v", err)
	case <-ctx.Done():
	}
	log.Printf("demo-app: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(os.Stderr, "demo-app: shutdown: %v\n", err)
		os.Exit(1)
	}
}
