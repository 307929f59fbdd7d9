// CoreDNS with only the plugins imported below: those the lab's Corefiles use, those of a
// Corefile of the seed's kind or Kubernetes' default, and light ones an operator reaches for;
// not the cloud backends (route53, azure, clouddns), tracing, nomad, etcd, view, grpc and others
// (a Corefile naming one fails with "unknown directive"; `coredns -plugins` lists what is here): CoreDNS's documented way to choose plugins (plugin.cfg) is a main package importing
// them, and upstream's main imports all of them (core/plugin/zplugin.go). The cloud SDKs are
// most of its build: on 2 cores a cold build took 8 minutes, beside Kubernetes' own.
// The order in which plugins run is CoreDNS's (core/dnsserver/zdirectives.go), not this list's.
package main

import (
	"github.com/coredns/coredns/coremain"

	// The lab's Corefiles (harness/render/configs.ts corefile, the edge's lab DNS) and the
	// faults that edit them.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"

	// What a Corefile of the seed's kind or Kubernetes' default one also uses.
	_ "github.com/coredns/coredns/plugin/autopath"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/bufsize"
	_ "github.com/coredns/coredns/plugin/file"
	_ "github.com/coredns/coredns/plugin/k8s_external"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/rewrite"
	_ "github.com/coredns/coredns/plugin/template"

	// Cheap and common in hand-written Corefiles: TLS server blocks, zone transfers, ACLs.
	_ "github.com/coredns/coredns/plugin/acl"
	_ "github.com/coredns/coredns/plugin/any"
	_ "github.com/coredns/coredns/plugin/timeouts"
	_ "github.com/coredns/coredns/plugin/tls"
	_ "github.com/coredns/coredns/plugin/transfer"

	// Debugging.
	_ "github.com/coredns/coredns/plugin/chaos"
	_ "github.com/coredns/coredns/plugin/debug"
	_ "github.com/coredns/coredns/plugin/pprof"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func main() {
	coremain.Run()
}
