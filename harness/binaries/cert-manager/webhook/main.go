// Command webhook serves cert-manager's admission webhooks (validation and mutation of its
// resources) with the flags of the upstream command, through cert-manager's own webhook server.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/cert-manager/cert-manager/internal/webhook"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/webhook/options"
)

func main() {
	cfg, err := options.NewWebhookConfiguration()
	if err != nil {
		fmt.Fprintf(os.Stderr, "webhook: %v\n", err)
		os.Exit(2)
	}
	fs := pflag.NewFlagSet("webhook", pflag.ExitOnError)
	options.AddConfigFlags(fs, cfg) // the logging flags too
	_ = fs.Parse(os.Args[1:])
	logf.InitLogs()
	if err := logf.ValidateAndApply(&cfg.Logging); err != nil {
		fmt.Fprintf(os.Stderr, "webhook: %v\n", err)
		os.Exit(2)
	}
	defer logf.FlushLogs()
	log := logf.Log.WithName("webhook")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv, err := webhook.NewCertManagerWebhookServer(log, *cfg)
	if err != nil {
		log.Error(err, "cannot build the webhook server")
		logf.FlushLogs()
		os.Exit(1)
	}
	if err := srv.Run(ctx); err != nil {
		log.Error(err, "webhook server failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}
