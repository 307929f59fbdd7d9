// Command acmesolver answers one ACME HTTP-01 challenge (the pod cert-manager's controller starts
// for each challenge, with --listen-port, --domain, --token and --key), using cert-manager's solver.
package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/cert-manager/cert-manager/pkg/issuer/acme/http/solver"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
)

func main() {
	s := &solver.HTTP01Solver{}
	fs := pflag.NewFlagSet("acmesolver", pflag.ExitOnError)
	fs.IntVar(&s.ListenPort, "listen-port", 8089, "port to listen on")
	fs.StringVar(&s.Domain, "domain", "", "the domain name to answer for")
	fs.StringVar(&s.Token, "token", "", "the challenge token")
	fs.StringVar(&s.Key, "key", "", "the challenge key")
	_ = fs.Parse(os.Args[1:])
	logf.InitLogs()
	log := logf.Log.WithName("acmesolver")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
	}()
	if err := s.Listen(log); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error(err, "solver failed")
		os.Exit(1)
	}
}
