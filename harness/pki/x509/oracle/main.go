// The x509 oracle: Go's own verdict on credentials, for hardway's differential test
// (harness/pki/x509/differential.test.ts). It reads a JSON list of cases on stdin and prints one
// JSON verdict per case: ok, or the error Go's crypto/x509, crypto/tls and client-go give.
//
//	pair:       tls.X509KeyPair, x509.Certificate.Verify for the role (ServerAuth/ClientAuth,
//	            DNSName per name) and a real TLS handshake over 127.0.0.1 with the pair.
//	kubeconfig: clientcmd loads the file as kubectl does (current-context, data and files,
//	            paths relative to the file), rest.TLSConfigFor builds the client, and a handshake
//	            against an apiserver stand-in (its serving pair, its --client-ca-file).
//	sa:         keyutil parses --service-account-key-file contents and the signing key as the
//	            apiserver does; a signature made with the signing key must verify with one key.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/keyutil"
)

type testCase struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Purpose string   `json:"purpose"`
	Cert    string   `json:"cert"`
	Key     string   `json:"key"`
	Trust   string   `json:"trust"`
	Names   []string `json:"names"`
	Now     string   `json:"now"`

	Kubeconfig  string `json:"kubeconfig"`
	ServingCert string `json:"servingCert"`
	ServingKey  string `json:"servingKey"`
	ClientCA    string `json:"clientCA"`

	VerifyKeys []string `json:"verifyKeys"`
	SigningKey string   `json:"signingKey"`
}

type step struct {
	Stage string `json:"stage"`
	Error string `json:"error,omitempty"`
}

type resolved struct {
	Host       string `json:"host"`
	ServerName string `json:"serverName"`
	CAFile     string `json:"caFile,omitempty"`
	CertFile   string `json:"certFile,omitempty"`
	KeyFile    string `json:"keyFile,omitempty"`
	CertSHA256 string `json:"certSha256,omitempty"`
	Token      bool   `json:"token"`
}

type result struct {
	ID       string    `json:"id"`
	OK       bool      `json:"ok"`
	Stage    string    `json:"stage,omitempty"`
	Error    string    `json:"error,omitempty"`
	Steps    []step    `json:"steps"`
	Resolved *resolved `json:"resolved,omitempty"`
	Info     string    `json:"info,omitempty"`
}

func (r *result) add(stage string, err error) bool {
	s := step{Stage: stage}
	if err != nil {
		s.Error = err.Error()
		if r.OK {
			r.OK, r.Stage, r.Error = false, stage, s.Error
		}
	}
	r.Steps = append(r.Steps, s)
	return err == nil
}

func main() {
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "oracle: cannot read the cases:", err)
		os.Exit(2)
	}
	self, err := selfSigned()
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(2)
	}
	out := make([]result, 0, len(cases))
	for _, c := range cases {
		r := result{ID: c.ID, OK: true, Steps: []step{}}
		now := time.Now()
		if c.Now != "" {
			if now, err = time.Parse(time.RFC3339Nano, c.Now); err != nil {
				r.add("case", err)
				out = append(out, r)
				continue
			}
		}
		switch c.Kind {
		case "pair":
			runPair(&r, c, now, self)
		case "kubeconfig":
			runKubeconfig(&r, c, now)
		case "sa":
			runServiceAccount(&r, c)
		case "info":
			// The GODEBUG defaults this binary runs with (those differing from the toolchain's).
			r.Info = runtime.Version()
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "DefaultGODEBUG" {
						r.Info += " " + s.Value
					}
				}
			}
		default:
			r.add("case", fmt.Errorf("unknown kind %q", c.Kind))
		}
		out = append(out, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		os.Exit(2)
	}
}

// selfSigned is the far side of a client-certificate handshake: the client skips verifying it.
func selfSigned() (tls.Certificate, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "oracle"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(100 * 365 * 24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}, nil
}

// pool mirrors what components build from a trust file: x509.CertPool.AppendCertsFromPEM.
func pool(pemText string) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM([]byte(pemText)) {
		return nil, errors.New("no certificate Go can parse in the trust file")
	}
	return p, nil
}

func runPair(r *result, c testCase, now time.Time, self tls.Certificate) {
	pair, err := tls.X509KeyPair([]byte(c.Cert), []byte(c.Key))
	if !r.add("load", err) {
		return
	}
	roots, err := pool(c.Trust)
	if !r.add("trust", err) {
		return
	}
	inter := x509.NewCertPool()
	for i, der := range pair.Certificate[1:] {
		ic, err := x509.ParseCertificate(der)
		if !r.add("load", errWrap(err, "failed to parse certificate #%d in the chain", i+1)) {
			return
		}
		inter.AddCert(ic)
	}
	usage := x509.ExtKeyUsageServerAuth
	if c.Purpose == "client" {
		usage = x509.ExtKeyUsageClientAuth
	}
	names := c.Names
	if c.Purpose == "client" || len(names) == 0 {
		names = []string{""}
	}
	for _, name := range names {
		_, err := pair.Leaf.Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: inter, DNSName: name, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{usage},
		})
		r.add("verify"+suffix(name), err)
	}
	for _, name := range names {
		if c.Purpose == "client" {
			server := &tls.Config{Certificates: []tls.Certificate{self}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots, Time: func() time.Time { return now }}
			// client-go presents its certificate whatever CAs the server names (GetClientCertificate).
			client := &tls.Config{InsecureSkipVerify: true, Time: func() time.Time { return now },
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }}
			cerr, serr := handshake(server, client)
			r.add("handshake", pick(serr, cerr))
		} else {
			server := &tls.Config{Certificates: []tls.Certificate{pair}, Time: func() time.Time { return now }}
			client := &tls.Config{RootCAs: roots, ServerName: name, Time: func() time.Time { return now }}
			if name == "" {
				// No name asked: Go's own verification of the peer's chain, without the hostname.
				client = &tls.Config{InsecureSkipVerify: true, Time: func() time.Time { return now },
					VerifyConnection: func(cs tls.ConnectionState) error {
						ip := x509.NewCertPool()
						for _, c := range cs.PeerCertificates[1:] {
							ip.AddCert(c)
						}
						_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: ip, CurrentTime: now})
						return err
					}}
			}
			cerr, serr := handshake(server, client)
			r.add("handshake"+suffix(name), pick(cerr, serr))
		}
	}
}

// pick returns the error of the side that refused: its own error, not the alert the other side got.
func pick(primary, other error) error {
	remote := func(e error) bool {
		s := e.Error()
		return strings.HasPrefix(s, "remote error") || strings.Contains(s, "EOF") || strings.Contains(s, "connection reset")
	}
	if primary != nil && !remote(primary) {
		return primary
	}
	if other != nil && !remote(other) {
		return other
	}
	if primary != nil {
		return primary
	}
	return other
}

func suffix(name string) string {
	if name == "" {
		return ""
	}
	return ":" + name
}

func errWrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// handshake runs one TLS handshake over 127.0.0.1 and returns the client's and the server's error.
func handshake(server, client *tls.Config) (clientErr, serverErr error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err, err
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		s := tls.Server(conn, server)
		err = s.Handshake()
		if err == nil {
			// TLS 1.3: the server judges the client's certificate after the client is done; a
			// byte written here reaches the client only if the server accepted it.
			_, err = s.Write([]byte{1})
		}
		done <- err
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err, <-done
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	cl := tls.Client(conn, client)
	clientErr = cl.Handshake()
	if clientErr == nil {
		_, clientErr = cl.Read(make([]byte, 1))
	}
	serverErr = <-done
	return clientErr, serverErr
}

func runKubeconfig(r *result, c testCase, now time.Time) {
	// kubectl's loader: an explicit --kubeconfig, and kubectl's cluster defaults (localhost:8080).
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults})
	rc, err := cc.ClientConfig()
	if !r.add("kubeconfig", err) {
		return
	}
	res := &resolved{Host: rc.Host, ServerName: rc.TLSClientConfig.ServerName, CAFile: rc.TLSClientConfig.CAFile,
		CertFile: rc.TLSClientConfig.CertFile, KeyFile: rc.TLSClientConfig.KeyFile, Token: rc.BearerToken != "" || rc.BearerTokenFile != ""}
	r.Resolved = res
	certData := rc.TLSClientConfig.CertData
	if len(certData) == 0 && rc.TLSClientConfig.CertFile != "" {
		certData, _ = os.ReadFile(rc.TLSClientConfig.CertFile)
	}
	if len(certData) > 0 {
		sum := sha256.Sum256(certData)
		res.CertSHA256 = hex.EncodeToString(sum[:])
	}
	u, err := url.Parse(rc.Host)
	if err == nil && u.Scheme != "https" {
		err = fmt.Errorf("kubectl would talk plain %s to %s, without TLS", u.Scheme, rc.Host)
	}
	if !r.add("server", err) {
		return
	}
	tc, err := rest.TLSConfigFor(rc)
	if err == nil && tc == nil {
		err = errors.New("no TLS settings: the server's certificate would be verified against the system roots")
	}
	if !r.add("tls-config", err) {
		return
	}
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname() // what net/http does with the URL's host
	}
	tc.Time = func() time.Time { return now }
	res.ServerName = tc.ServerName
	serving, err := tls.X509KeyPair([]byte(c.ServingCert), []byte(c.ServingKey))
	if !r.add("apiserver-pair", err) {
		return
	}
	clientCAs, err := pool(c.ClientCA)
	if !r.add("apiserver-client-ca", err) {
		return
	}
	server := &tls.Config{Certificates: []tls.Certificate{serving}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs, Time: func() time.Time { return now }}
	if rc.BearerToken != "" || rc.BearerTokenFile != "" {
		if rc.TLSClientConfig.CertData == nil && rc.TLSClientConfig.CertFile == "" {
			server.ClientAuth = tls.NoClientCert // a token user presents no certificate
		}
	}
	cerr, serr := handshake(server, tc)
	r.add("handshake", pick(cerr, serr))
}

func runServiceAccount(r *result, c testCase) {
	var keys []any
	for i, data := range c.VerifyKeys {
		k, err := keyutil.ParsePublicKeysPEM([]byte(data))
		if !r.add(fmt.Sprintf("verify-key-file-%d", i), err) {
			return
		}
		keys = append(keys, k...)
	}
	priv, err := keyutil.ParsePrivateKeyPEM([]byte(c.SigningKey))
	if !r.add("signing-key", err) {
		return
	}
	digest := sha256.Sum256([]byte("hardway service-account token"))
	var sig []byte
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, digest[:])
	default:
		err = fmt.Errorf("unknown private key type %T, must be *rsa.PrivateKey or *ecdsa.PrivateKey", priv)
	}
	if !r.add("sign", err) {
		return
	}
	for _, pub := range keys {
		switch p := pub.(type) {
		case *rsa.PublicKey:
			if rsa.VerifyPKCS1v15(p, crypto.SHA256, digest[:], sig) == nil {
				r.add("match", nil)
				return
			}
		case *ecdsa.PublicKey:
			if ecdsa.VerifyASN1(p, digest[:], sig) {
				r.add("match", nil)
				return
			}
		}
	}
	r.add("match", errors.New("no service-account verification key matches the signing key: tokens it signs are rejected"))
}
