#!/usr/bin/env bash
# Build (or reuse) the Pulumi CLI, Python, Node.js and YAML language hosts from Go modules.
#
#   tools/pulumi/build.sh [--force]
#
# Result, in tools/pulumi/bin/: pulumi, pulumi-language-python, pulumi-language-nodejs,
# pulumi-language-python-exec, pulumi-resource-pulumi-python, pulumi-language-yaml
# (module yaml/, pinned on its own), and gen-sdk (Node.js, Python and Go SDK generator).
# The last line printed is the directory holding the engine (put it first on PATH).
#
# Cached: does nothing when bin/ already holds the pinned versions built from the
# current sources.  Otherwise, if a `pulumi` >= the pinned version (same major)
# is on PATH with pulumi-language-python, pulumi-resource-pulumi-python and
# pulumi-language-yaml beside it, that directory is used instead and only
# gen-sdk is built (set PULUMI_TOOLS_IGNORE_PATH=1 to skip this).  --force
# always rebuilds.  The Go module and build caches stay in their default places,
# so a rebuild on the same machine takes seconds.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$here/bin
force=0
for arg in "$@"; do
    case $arg in
        --force) force=1 ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

# The pinned version is the one go.mod requires for pkg/v3.
version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { sub(/^v/, "", $2); print $2; exit }' "$here/go.mod")
if [ -z "$version" ]; then
    echo "build.sh: cannot find github.com/pulumi/pulumi/pkg/v3 in $here/go.mod" >&2
    exit 1
fi

# The YAML language host is its own module (it does not compile against the CLI's pkg/v3).
yaml_version=$(awk '$1 == "require" && $2 == "github.com/pulumi/pulumi-yaml" { print $3; exit }' "$here/yaml/go.mod")
if [ -z "$yaml_version" ]; then
    echo "build.sh: cannot find github.com/pulumi/pulumi-yaml in $here/yaml/go.mod" >&2
    exit 1
fi

export PULUMI_SKIP_UPDATE_CHECK=true
export CGO_ENABLED=0

# Inputs of everything built here; a change to any of them rebuilds.
stamp_of_sources() {
    (cd "$here" && cat go.mod go.sum cmd/*/*.go langhost/*.go launchers/* yaml/go.mod yaml/go.sum) | sha256sum | cut -d' ' -f1
}

find_go() {
    go=$(command -v go 2>/dev/null || true)
    [ -n "$go" ] || go=/usr/local/go/bin/go
    if [ ! -x "$go" ]; then
        echo "build.sh: the go command is needed (Go >= 1.26.6)" >&2
        exit 1
    fi
}

build_generator() { # into $1
    (cd "$here" && "$go" build -trimpath -buildvcs=false -o "$1/gen-sdk" ./cmd/gen-sdk)
}

cli_version() { # prints the version a pulumi binary reports, or nothing
    "$1" version 2>/dev/null | head -n1 | tr -d '[:space:]' || true
}

# 1. Up to date already?
stamp=$(stamp_of_sources)
if [ "$force" = 0 ] && [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-python" ] \
    && [ -x "$bin/pulumi-language-nodejs" ] \
    && [ -x "$bin/pulumi-language-yaml" ] && [ -x "$bin/gen-sdk" ] \
    && [ "$(cli_version "$bin/pulumi")" = "v$version" ] \
    && [ "$(cat "$bin/.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "pulumi v$version already built in $bin; nothing to do"
    echo "$bin"
    exit 0
fi

# 2. A compatible pulumi on PATH, with its Python and YAML hosts and dynamic provider beside it?
if [ "$force" = 0 ] && [ "${PULUMI_TOOLS_IGNORE_PATH:-}" != 1 ] && path_pulumi=$(command -v pulumi 2>/dev/null); then
    path_dir=$(cd "$(dirname "$path_pulumi")" && pwd)
    if [ "$path_dir" != "$bin" ] && [ -x "$path_dir/pulumi-language-python" ] \
        && [ -x "$path_dir/pulumi-resource-pulumi-python" ] && [ -x "$path_dir/pulumi-language-yaml" ]; then
        have=$(cli_version "$path_pulumi"); have=${have#v}
        if [ "${have%%.*}" = "${version%%.*}" ] \
            && [ "$(printf '%s\n%s\n' "$version" "$have" | sort -V | head -n1)" = "$version" ]; then
            echo "using pulumi v$have found on PATH in $path_dir (pinned: v$version)"
            if [ ! -x "$bin/gen-sdk" ]; then
                find_go
                mkdir -p "$bin"
                build_generator "$bin"
            fi
            echo "$path_dir"
            exit 0
        fi
    fi
fi

# 3. Build.
find_go

echo "building pulumi v$version, pulumi-language-python and pulumi-language-yaml $yaml_version into $bin (first build takes several minutes)"
mkdir -p "$bin"
tmp=$(mktemp -d "$bin/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version"
(
    cd "$here"
    "$go" build -trimpath -buildvcs=false -ldflags "$ldflags" \
        -o "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    "$go" build -trimpath -buildvcs=false -ldflags "$ldflags" \
        -o "$tmp/pulumi-language-python" ./cmd/pulumi-language-python
    "$go" build -trimpath -buildvcs=false -ldflags "$ldflags" \
        -o "$tmp/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs
)
build_generator "$tmp"
(
    cd "$here/yaml"
    "$go" build -trimpath -buildvcs=false \
        -ldflags "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version" \
        -o "$tmp/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
)
cp "$here/launchers/pulumi-language-python-exec" "$here/launchers/pulumi-resource-pulumi-python" "$tmp/"
chmod +x "$tmp"/*

got=$(cli_version "$tmp/pulumi")
if [ "$got" != "v$version" ]; then
    echo "build.sh: built pulumi reports '$got', expected v$version" >&2
    exit 1
fi

for f in pulumi pulumi-language-python pulumi-language-nodejs pulumi-language-python-exec \
    pulumi-resource-pulumi-python pulumi-language-yaml gen-sdk; do
    mv -f "$tmp/$f" "$bin/$f"
done
echo "$stamp" > "$bin/.stamp"
echo "built pulumi v$version and pulumi-language-yaml $yaml_version in $bin"
echo "$bin"
