// Command controller runs cert-manager's controllers (ACME, CA and SelfSigned issuers, the
// certificate machinery, ingress-shim and gateway-shim), wired by hardway from the controller
// packages of github.com/cert-manager/cert-manager. Vault and Venafi issuers are left out: the lab
// uses none, and their SDKs would only lengthen the build.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	logsapi "k8s.io/component-base/logs/api/v1"

	"github.com/cert-manager/cert-manager/pkg/controller"
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmechallenges"
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmeorders"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/gateways"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/acme"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/metrics"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
	dnsutil "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/util"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
)

// Every controller this binary registers, except gateway-shim (needs --enable-gateway-api).
var defaultControllers = []string{
	"issuers", "clusterissuers", "certificates-metrics", "ingress-shim", "orders", "challenges",
	"certificaterequests-issuer-acme", "certificaterequests-approver", "certificaterequests-issuer-ca",
	"certificaterequests-issuer-selfsigned", "certificates-trigger", "certificates-issuing",
	"certificates-key-manager", "certificates-request-manager", "certificates-readiness",
	"certificates-revision-manager",
}

type options struct {
	kubeconfig, apiServerHost                    string
	namespace, clusterResourceNamespace          string
	leaderElect                                  bool
	leaderElectionNamespace                      string
	solverImage                                  string
	solverNameservers, dns01Nameservers          []string
	solverRunAsNonRoot                           bool
	enableGatewayAPI                             bool
	controllers                                  []string
	metricsAddress, healthzAddress               string
	issuerAmbientCredentials, clusterAmbientCred bool
	checkRetryPeriod                             time.Duration
}

func main() {
	o := options{}
	logOpts := logsapi.NewLoggingConfiguration()
	fs := pflag.NewFlagSet("controller", pflag.ExitOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (in-cluster configuration when empty)")
	fs.StringVar(&o.apiServerHost, "master", "", "apiserver address (overrides the kubeconfig's)")
	fs.StringVar(&o.namespace, "namespace", "", "watch this namespace only (all namespaces when empty)")
	fs.StringVar(&o.clusterResourceNamespace, "cluster-resource-namespace", "kube-system", "namespace of the secrets ClusterIssuers refer to")
	fs.BoolVar(&o.leaderElect, "leader-elect", true, "take a Lease before running the control loops")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "kube-system", "namespace of the leader election Lease")
	fs.StringVar(&o.solverImage, "acme-http01-solver-image", "quay.io/jetstack/cert-manager-acmesolver:"+util.AppVersion, "image of the HTTP-01 solver pods")
	fs.BoolVar(&o.solverRunAsNonRoot, "acme-http01-solver-run-as-non-root", true, "run HTTP-01 solver pods with runAsNonRoot")
	fs.StringSliceVar(&o.solverNameservers, "acme-http01-solver-nameservers", nil, "nameservers (host:port) for the HTTP-01 self check")
	fs.StringSliceVar(&o.dns01Nameservers, "dns01-recursive-nameservers", nil, "nameservers (host:port) for DNS-01 checks")
	// Upstream's flag: how long a challenge whose self-check failed (its solver pod not serving
	// yet) waits before the next check; HTTP-01 uses it too.
	fs.DurationVar(&o.checkRetryPeriod, "dns01-check-retry-period", 10*time.Second, "wait between self-checks of a challenge that is not ready yet (DNS-01 and HTTP-01)")
	fs.BoolVar(&o.enableGatewayAPI, "enable-gateway-api", false, "Gateway API support: gateway-shim and HTTP-01 through HTTPRoutes")
	fs.StringSliceVar(&o.controllers, "controllers", nil, "controllers to run (default: all this binary has)")
	fs.StringVar(&o.metricsAddress, "metrics-listen-address", "0.0.0.0:9402", "Prometheus metrics address")
	fs.StringVar(&o.healthzAddress, "healthz-listen-address", "0.0.0.0:9403", "liveness endpoint (/livez) address")
	fs.BoolVar(&o.clusterAmbientCred, "cluster-issuer-ambient-credentials", true, "ClusterIssuers may use ambient credentials")
	fs.BoolVar(&o.issuerAmbientCredentials, "issuer-ambient-credentials", false, "Issuers may use ambient credentials")
	logf.AddFlags(logOpts, fs)
	_ = fs.Parse(os.Args[1:])
	logf.InitLogs()
	if err := logf.ValidateAndApply(logOpts); err != nil {
		fmt.Fprintf(os.Stderr, "controller: %v\n", err)
		os.Exit(2)
	}
	defer logf.FlushLogs()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		logf.Log.Error(err, "controller failed")
		logf.FlushLogs()
		os.Exit(1)
	}
}

func run(rootCtx context.Context, o options) error {
	rootCtx, cancel := context.WithCancel(rootCtx)
	defer cancel()
	rootCtx = logf.NewContext(rootCtx, logf.Log, "controller")
	log := logf.FromContext(rootCtx)
	g, rootCtx := errgroup.WithContext(rootCtx)

	q := func(s string) resource.Quantity { return resource.MustParse(s) }
	dns01 := o.dns01Nameservers
	if len(dns01) == 0 {
		dns01 = dnsutil.RecursiveNameservers
	}
	controllers := o.controllers
	if len(controllers) == 0 {
		controllers = append([]string{}, defaultControllers...)
		if o.enableGatewayAPI {
			controllers = append(controllers, "gateway-shim")
		}
	}
	enabled := sets.New(controllers...)
	factory, err := controller.NewContextFactory(rootCtx, controller.ContextOptions{
		APIServerHost:      o.apiServerHost,
		Kubeconfig:         o.kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		Namespace:          o.namespace,
		IssuerOptions: controller.IssuerOptions{
			ClusterResourceNamespace:        o.clusterResourceNamespace,
			ClusterIssuerAmbientCredentials: o.clusterAmbientCred,
			IssuerAmbientCredentials:        o.issuerAmbientCredentials,
		},
		ACMEOptions: controller.ACMEOptions{
			HTTP01SolverImage:                 o.solverImage,
			HTTP01SolverResourceRequestCPU:    q("10m"),
			HTTP01SolverResourceRequestMemory: q("64Mi"),
			HTTP01SolverResourceLimitsCPU:     q("100m"),
			HTTP01SolverResourceLimitsMemory:  q("64Mi"),
			ACMEHTTP01SolverRunAsNonRoot:      o.solverRunAsNonRoot,
			HTTP01SolverNameservers:           o.solverNameservers,
			DNS01CheckAuthoritative:           true,
			DNS01Nameservers:                  dns01,
			DNS01CheckRetryPeriod:             o.checkRetryPeriod,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultIssuerKind:                 "Issuer",
			DefaultIssuerGroup:                "cert-manager.io",
			DefaultAutoCertificateAnnotations: []string{"kubernetes.io/tls-acme"},
			GatewayAPIExtraProtocols:          sets.New[string](),
		},
		CertificateOptions: controller.CertificateOptions{
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
		SchedulerOptions: controller.SchedulerOptions{MaxConcurrentChallenges: 60},
		ConfigOptions:    controller.ConfigOptions{EnableGatewayAPI: o.enableGatewayAPI},
	})
	if err != nil {
		return err
	}
	cctx, err := factory.Build()
	if err != nil {
		return err
	}
	log.Info("enabled controllers", "controllers", sets.List(enabled))

	serve := func(addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error {
			<-rootCtx.Done()
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			return srv.Shutdown(sctx)
		})
		g.Go(func() error {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		return nil
	}
	metricsLn, err := net.Listen("tcp", o.metricsAddress)
	if err != nil {
		return fmt.Errorf("metrics address %s: %w", o.metricsAddress, err)
	}
	metrics := cctx.Metrics.NewServer(metricsLn)
	g.Go(func() error {
		<-rootCtx.Done()
		return metrics.Close()
	})
	g.Go(func() error {
		if err := metrics.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	live := http.NewServeMux()
	live.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	if err := serve(o.healthzAddress, live); err != nil {
		return fmt.Errorf("healthz address %s: %w", o.healthzAddress, err)
	}

	elected := make(chan struct{})
	if o.leaderElect {
		lctx, err := factory.Build("leader-election")
		if err != nil {
			return err
		}
		id, _ := os.Hostname()
		lock, err := resourcelock.New(resourcelock.LeasesResourceLock, o.leaderElectionNamespace, "cert-manager-controller",
			lctx.Client.CoreV1(), lctx.Client.CoordinationV1(),
			resourcelock.ResourceLockConfig{Identity: id + "-external-cert-manager-controller", EventRecorder: lctx.Recorder})
		if err != nil {
			return err
		}
		le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: lock, LeaseDuration: 60 * time.Second, RenewDeadline: 40 * time.Second, RetryPeriod: 15 * time.Second,
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { close(elected) },
				OnStoppedLeading: func() {
					if rootCtx.Err() == nil {
						log.Info("leader election lost: exiting")
						os.Exit(1)
					}
				},
			},
		})
		if err != nil {
			return err
		}
		g.Go(func() error { le.Run(rootCtx); return nil })
	} else {
		close(elected)
	}
	select {
	case <-rootCtx.Done():
		return g.Wait()
	case <-elected:
	}

	for name, construct := range controller.Known() {
		if !enabled.Has(name) || (cctx.Namespace != "" && name == clusterissuers.ControllerName) {
			continue
		}
		iface, err := construct(factory)
		if err != nil {
			cancel()
			_ = g.Wait()
			return fmt.Errorf("controller %s: %w", name, err)
		}
		g.Go(func() error {
			log.Info("starting controller", "controller", name)
			return iface.Run(5, rootCtx)
		})
	}
	cctx.SharedInformerFactory.Start(rootCtx.Done())
	cctx.KubeSharedInformerFactory.Start(rootCtx.Done())
	cctx.HTTP01ResourceMetadataInformersFactory.Start(rootCtx.Done())
	if o.enableGatewayAPI {
		cctx.GWShared.Start(rootCtx.Done())
	}
	return g.Wait()
}
