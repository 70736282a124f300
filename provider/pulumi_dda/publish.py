"""``pulumi-dda publish``: the notebook's job without Pulumi.

The same code as the ``DdaModelComponent`` resource, called in-process: ``check`` (every
validation, source identities, the DDA manifest, each target's version, the LocalServer
prerequisite), then ``create`` (package, upload, create or take over each version, wait for
``DEPLOYABLE``, check the stored digest, and on any failure release what it took). The
versions it makes belong to the owner ``pulumi-dda-cli/<component_name>``, so a stack can adopt
them later like another stack's (same fingerprint) and they are never deleted by one.
"""

from __future__ import annotations

import argparse
from typing import Any

from .errors import InputError

OWNER_PREFIX = "pulumi-dda-cli/"


def add_parser(sub: Any, compiled_pair: Any) -> None:
    """Register ``publish`` with the CLI's subparsers."""
    publish = sub.add_parser(
        "publish",
        help="build, upload and create the Greengrass component versions (no Pulumi)",
        description="Build each target's package, upload it, create its Greengrass component "
        "version and wait until it is DEPLOYABLE; print the summary as JSON. On a failure "
        "the component versions this run created are deleted again and its packages are "
        "tagged released (deleted after the grace period, PULUMI_DDA_ARTIFACT_GRACE_SECONDS).",
        epilog="example: pulumi-dda publish --trained s3://ml-models/train/model.tar.gz "
        "--compiled x86_64-cpu=s3://ml-models/neo/x86/model.tar.gz --component-name model-defects "
        "--bucket edge-artifacts --region eu-west-1",
    )
    publish.add_argument(
        "--trained",
        required=True,
        help="trained model .tar.gz (e.g. s3://ml-models/train/model.tar.gz)",
    )
    publish.add_argument(
        "--compiled",
        required=True,
        action="append",
        type=compiled_pair,
        metavar="TARGET=SOURCE",
        help="compiled model per target, repeatable (e.g. jetson-xavier=s3://ml-models/neo/jx.tar.gz)",
    )
    publish.add_argument("--component-name", required=True, help="e.g. model-defects")
    publish.add_argument(
        "--component-version",
        default="",
        help="e.g. 2.0.0; omitted: each target takes its next version (or an identical one)",
    )
    publish.add_argument("--friendly-name", default="", help='e.g. "Defect classifier"')
    publish.add_argument("--bucket", required=True, help="artifact bucket, e.g. edge-artifacts")
    publish.add_argument("--prefix", default="", help="key prefix ending in '/', e.g. dda/")
    publish.add_argument(
        "--no-target-suffix", action="store_true", help="one target, named as given"
    )
    publish.add_argument(
        "--relax-device-checks", action="store_true", help="skip the device's manifest checks"
    )
    publish.add_argument(
        "--region", default="", help="e.g. eu-west-1 (default: AWS_DEFAULT_REGION)"
    )
    publish.add_argument(
        "--role-arn", default="", help="role to assume, e.g. arn:aws:iam::123456789012:role/dda"
    )
    publish.add_argument(
        "--tag", action="append", default=[], type=compiled_pair, metavar="KEY=VALUE",
        help="tag of every version, repeatable (e.g. team=vision)",
    )  # fmt: skip
    publish.add_argument(
        "--wait-timeout", type=float, default=0, help="seconds to wait for DEPLOYABLE (e.g. 900)"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Publish; returns ``{"manifest": ..., "components": {target: {..., "arn": ...}}}``."""
    # the Pulumi SDK: only when needed
    from ._dynamic import from_state
    from .model_component import DdaModelComponentProvider

    provider = DdaModelComponentProvider()
    props: dict[str, Any] = {
        "component_name": args.component_name,
        "component_version": args.component_version,
        "trained_model_uri": args.trained,
        "compiled_models": dict(args.compiled),
        "artifact_bucket": args.bucket,
        "artifact_prefix": args.prefix,
        "friendly_name": args.friendly_name,
        "target_suffix": not args.no_target_suffix,
        "tags": dict(args.tag),
        "role_arn": args.role_arn,
        "region": args.region,
        "relax_device_checks": args.relax_device_checks,
        "wait_timeout_seconds": args.wait_timeout,
        "owner": OWNER_PREFIX + args.component_name,
    }
    checked = provider.check({}, props)
    if checked.failures:
        first = checked.failures[0]
        raise InputError(first.reason, field=first.property)
    outs = from_state(provider.create(checked.inputs).outs or {}, provider.STATE_ONLY)
    return {"manifest": outs["manifest"], "components": outs["components"]}
