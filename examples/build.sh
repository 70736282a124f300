#!/usr/bin/env bash
# Prepare the examples: the TypeScript SDK generated from the provider's schema, the locked
# npm packages, and the compiled TypeScript program (examples/typescript/dist).
#
#   examples/build.sh
#
# Needs the tools built by tools/pulumi/build.sh (gen-sdk) and Node.js with npm.
# Cached: does nothing when the schema, the program sources and package-lock.json are those of
# the last build. npm installs with `npm ci` from package-lock.json (its cache: ~/.npm).
# The YAML example needs no build.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ts=$repo/examples/typescript
schema=$repo/provider/pulumi-resource-dda/schema.json
generator=$repo/tools/pulumi/bin/gen-sdk

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    echo "examples/build.sh: Node.js (>= 20) and npm are needed for the TypeScript example" >&2
    exit 1
fi
if [ ! -x "$generator" ]; then
    echo "examples/build.sh: $generator is missing: run tools/pulumi/build.sh (make engine)" >&2
    exit 1
fi

stamp=$( (cd "$ts" && cat "$schema" package.json package-lock.json tsconfig.json ./*.ts) | sha256sum | cut -d' ' -f1)
lock=$(sha256sum "$ts/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$ts/dist/.stamp" 2>/dev/null)" = "$stamp" ] \
    && [ "$(cat "$ts/node_modules/.stamp" 2>/dev/null)" = "$lock" ]; then
    echo "examples/typescript is built; nothing to do"
    exit 0
fi

"$generator" nodejs "$schema" "$ts/sdk"
if [ "$(cat "$ts/node_modules/.stamp" 2>/dev/null)" != "$lock" ]; then
    # Install scripts stay off: none of these packages needs one (protobufjs's only checks versions).
    (cd "$ts" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline)
    echo "$lock" > "$ts/node_modules/.stamp"
fi
rm -rf "$ts/dist"
(cd "$ts" && node node_modules/typescript/bin/tsc -p .)
# The SDK reads its version (the provider version it asks the engine for) from package.json.
cp "$ts/sdk/package.json" "$ts/dist/sdk/package.json"
echo "$stamp" > "$ts/dist/.stamp"
echo "built examples/typescript"
