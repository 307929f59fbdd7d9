// hardway's entry points for cert-manager, built against the github.com/cert-manager/cert-manager
// module at the version pinned in harness/binaries/manifest.ts (see README.md here). The module
// path sits under cert-manager's own so that these commands may use its internal packages, as the
// upstream commands (separate modules the Go module proxy does not serve) do.
module github.com/cert-manager/cert-manager/hardway

go 1.26.0
