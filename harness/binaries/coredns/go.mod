// hardway's entry point for CoreDNS, built against the github.com/coredns/coredns module at the
// version pinned in harness/binaries/manifest.ts. The module path sits under CoreDNS's own, as
// cert-manager's entry points do (harness/binaries/cert-manager/).
module github.com/coredns/coredns/hardway

go 1.26.0
