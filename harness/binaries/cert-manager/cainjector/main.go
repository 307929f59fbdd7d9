// Command cainjector copies CA bundles into webhook configurations, APIServices and CRDs that ask
// for them (cert-manager.io/inject-ca-from, inject-ca-from-secret, inject-apiserver-ca), with
// cert-manager's injector controllers on a controller-runtime manager.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	logsapi "k8s.io/component-base/logs/api/v1"
	apireg "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cert-manager/cert-manager/internal/kube"
	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	"github.com/cert-manager/cert-manager/pkg/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
)

func main() {
	var kubeconfig, namespace, leaderNamespace, metricsAddr, probeAddr string
	var leaderElect bool
	fs := pflag.NewFlagSet("cainjector", pflag.ExitOnError)
	fs.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file (in-cluster configuration when empty)")
	fs.StringVar(&namespace, "namespace", "", "inject only into resources of this namespace (all when empty)")
	fs.BoolVar(&leaderElect, "leader-elect", true, "take a Lease before running the control loops")
	fs.StringVar(&leaderNamespace, "leader-election-namespace", "kube-system", "namespace of the leader election Lease")
	fs.StringVar(&metricsAddr, "metrics-listen-address", "0.0.0.0:9402", "Prometheus metrics address (0 disables)")
	fs.StringVar(&probeAddr, "healthz-listen-address", "0.0.0.0:9403", "health probe address (/livez, /readyz)")
	logOpts := logsapi.NewLoggingConfiguration()
	logf.AddFlags(logOpts, fs)
	_ = fs.Parse(os.Args[1:])
	logf.InitLogs()
	if err := logf.ValidateAndApply(logOpts); err != nil {
		fmt.Fprintf(os.Stderr, "cainjector: %v\n", err)
		os.Exit(2)
	}
	defer logf.FlushLogs()
	log := logf.Log.WithName("cainjector")
	ctrl.SetLogger(log)
	if err := run(kubeconfig, namespace, leaderElect, leaderNamespace, metricsAddr, probeAddr); err != nil {
		log.Error(err, "cainjector failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}

func run(kubeconfig, namespace string, leaderElect bool, leaderNamespace, metricsAddr, probeAddr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := kube.BuildClientConfig("", kubeconfig)
	if err != nil {
		return err
	}
	// The user agent names the field manager of the CA bundles cainjector applies.
	cfg = util.RestConfigWithUserAgent(cfg, "cainjector")
	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	utilruntime.Must(apireg.AddToScheme(scheme))
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		LeaderElection:          leaderElect,
		LeaderElectionNamespace: leaderNamespace,
		LeaderElectionID:        "cert-manager-cainjector-leader-election",
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		// The injectors watch Secrets' metadata only and read the few they need from the API.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		LivenessEndpointName:    "/livez",
		ReadinessEndpointName:   "/readyz",
	})
	if err != nil {
		return fmt.Errorf("controller manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		Namespace:                    namespace,
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			"mutatingwebhookconfiguration":   true,
			"validatingwebhookconfiguration": true,
			"apiservice":                     true,
			"customresourcedefinition":       true,
		},
	}); err != nil {
		return fmt.Errorf("registering the injectors: %w", err)
	}
	return mgr.Start(ctx)
}
