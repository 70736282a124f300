#!/usr/bin/env bash
# End-to-end check of tools/pulumi: builds (or reuses) the CLI, then deploys a
# Python program with two pulumi.dynamic resources on a local file backend:
# stack init, up, preview --expect-no-changes, destroy.
#
#   tools/pulumi/smoke-test.sh
#
# Env: SMOKE_VENV=<existing venv with pulumi installed> skips creating one
#      (otherwise: python3 -m venv + pip install pulumi==$PULUMI_PY_VERSION,
#      default 3.272.0).  KEEP_SMOKE_DIR=1 keeps the temp dir.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bindir=$("$here/build.sh" | tail -n1)

work=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-smoke.XXXXXX")
if [ "${KEEP_SMOKE_DIR:-}" = 1 ]; then
    echo "smoke dir: $work"
else
    trap 'rm -rf "$work"' EXIT
fi

venv=${SMOKE_VENV:-}
if [ -z "$venv" ]; then
    venv=$work/venv
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q "pulumi==${PULUMI_PY_VERSION:-3.272.0}"
fi

proj=$work/proj
mkdir -p "$proj" "$work/state" "$work/home"
cat > "$proj/Pulumi.yaml" <<EOF
name: smoke
runtime:
  name: python
  options:
    virtualenv: $venv
EOF
# A provider in an importable module next to __main__.py (pickled by reference:
# the dynamic provider process runs in the project directory, so it imports it)...
cat > "$proj/smoke_provider.py" <<'EOF'
import uuid

from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider


class EchoProvider(ResourceProvider):
    def create(self, props):
        return CreateResult(id_=uuid.uuid4().hex, outs={**props, "echoed": props["message"].upper()})

    def diff(self, _id, olds, news):
        return DiffResult(changes=olds.get("message") != news.get("message"))
EOF
# ...and one defined in __main__ (pickled by value).
cat > "$proj/__main__.py" <<'EOF'
import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider

from smoke_provider import EchoProvider


class InlineProvider(ResourceProvider):
    def create(self, props):
        return CreateResult(id_="inline-1", outs=props)


class Echo(Resource):
    echoed: pulumi.Output[str]

    def __init__(self, name, message, opts=None):
        super().__init__(EchoProvider(), name, {"message": message, "echoed": None}, opts)


class Inline(Resource):
    def __init__(self, name, value, opts=None):
        super().__init__(InlineProvider(), name, {"value": value}, opts)


echo = Echo("echo", pulumi.Config().get("message") or "hello")
Inline("inline", 42)
pulumi.export("echoed", echo.echoed)
EOF

export PATH="$bindir:$PATH"
export PULUMI_BACKEND_URL="file://$work/state"
export PULUMI_CONFIG_PASSPHRASE=smoke
export PULUMI_HOME="$work/home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

passed=0 failed=0
step() {
    echo "== pulumi $*"
    if (cd "$proj" && pulumi "$@" --non-interactive); then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: pulumi $*" >&2
    fi
}
step stack init dev
step up --yes
out=$(cd "$proj" && pulumi stack output echoed 2>/dev/null || true)
if [ "$out" = HELLO ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: stack output echoed='$out'" >&2; fi
step preview --expect-no-changes
step destroy --yes
echo "smoke: $passed passed, $failed failed"
[ "$failed" = 0 ]
