#!/usr/bin/env bash
# Regenerate the SDKs in sdk/ from the provider's schema, with the upstream generators:
#
#   sdk/generate.sh        (after `make engine`, which builds tools/pulumi/bin/gen-sdk)
#
# sdk/nodejs (npm @pulumi-dda/dda), sdk/python (pulumi_dda_sdk), sdk/go/dda (Go package
# github.com/pulumi-dda/pulumi-dda/sdk/go/dda; the module's go.mod and go.sum are sdk/go.mod and
# sdk/go.sum, kept by hand like tools/pulumi's). tests/e2e/test_sdks.py checks that the committed
# SDKs are what this writes, and compiles each one.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
generator=$repo/tools/pulumi/bin/gen-sdk
schema=$repo/provider/pulumi-resource-dda/schema.json
if [ ! -x "$generator" ]; then
    echo "sdk/generate.sh: $generator is missing: run tools/pulumi/build.sh (make engine)" >&2
    exit 1
fi
for language in nodejs python go; do
    "$generator" "$language" "$schema" "$repo/sdk/$language"
done
