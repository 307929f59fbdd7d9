#!/usr/bin/env bash
# Builds main packages of a Go module at an exact version through the Go module proxy,
# inside a throwaway wrapper module. Needed because `go install mod@ver` refuses modules
# whose go.mod has replace directives (k8s.io/kubernetes points every staging module at
# ./staging/src/...). Local-path replaces are turned into proxy versions; the others are copied.
#
# usage: go-build.sh MODULE VERSION OUT_DIR STAGING_VERSION LDFLAGS PKG [PKG...]
#   STAGING_VERSION: version to use for local-path replaces (k8s: v0.<minor>.<patch>), or "-"
# env GO_BUILD_REPLACE: extra "module=/abs/dir" replaces, space separated (stand-ins for modules
#   the reachable proxy does not serve; see harness/binaries/stubs/).
# env GO_BUILD_FETCH_ONLY=1: only download the modules the packages need (into the module cache),
#   so that a later build of the same packages compiles at once.
set -euo pipefail
module=$1 version=$2 out=$3 staging=$4 ldflags=$5; shift 5
work=$(mktemp -d "${TMPDIR:-/tmp}/hardway-gobuild.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS="-mod=mod" CGO_ENABLED=${CGO_ENABLED:-0}
gomod=$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
[ -f "$gomod" ] || { echo "go-build: cannot download $module@$version through the Go module proxy" >&2; exit 1; }
go mod init hardway.local/build >/dev/null 2>&1
# Keep the upstream go directive (and with it the language semantics it was written for).
gover=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$gomod" | head -1)
[ -n "$gover" ] && go mod edit -go="$gover"
# A repository that was renamed serves its module under the old path while its go.mod declares the
# new one (github.com/nginxinc/... -> github.com/nginx/...): require the declared path, fetched
# from the path that is served.
declared=$(sed -n 's/^module[[:space:]]*\([^[:space:]]*\).*/\1/p' "$gomod" | head -1 | tr -d '"')
if [ -n "$declared" ] && [ "$declared" != "$module" ]; then
  go mod edit -require="$declared@$version" -replace="$declared=$module@$version"
else
  go mod edit -require="$module@$version"
fi
# Copy the upstream require lines so that we build with the versions upstream tested.
awk '/^require \(/{inb=1;next} inb&&/^\)/{inb=0;next} inb{print $1" "$2} /^require [^(]/{print $2" "$3}' "$gomod" |
  while read -r m v; do [ -n "$m" ] && go mod edit -require="$m@$v"; done
# Translate replace directives.
awk '/^replace \(/{inb=1;next} inb&&/^\)/{inb=0;next} inb{print} /^replace [^(]/{sub(/^replace /,"");print}' "$gomod" |
  while read -r line; do
    from=$(echo "$line" | awk -F' => ' '{print $1}' | awk '{print $1}')
    to=$(echo "$line" | awk -F' => ' '{print $2}')
    case "$to" in
      ./*|../*) [ "$staging" != "-" ] && go mod edit -replace="$from=$from@$staging" ;;
      *) tmod=$(echo "$to" | awk '{print $1}'); tver=$(echo "$to" | awk '{print $2}')
         go mod edit -replace="$from=$tmod@$tver" ;;
    esac
  done
for r in ${GO_BUILD_REPLACE:-}; do go mod edit -replace="$r"; done
pkgs=()
for p in "$@"; do pkgs+=("$p"); done
if [ -n "${GO_BUILD_FETCH_ONLY:-}" ]; then
  go list -deps "${pkgs[@]}" >/dev/null
  exit 0
fi
mkdir -p "$out"
go build -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}"
