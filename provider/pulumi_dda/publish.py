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
from .properties import BOOLEAN, MODEL, NUMBER, Input, MapOf

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
    for prop in MODEL.inputs:
        if prop.cli is not None:
            publish.add_argument(prop.cli.flag, help=prop.cli.help, **_option(prop, compiled_pair))


def _option(prop: Input, pair: Any) -> dict[str, Any]:
    """``add_argument`` keywords for one input, from its type and default in the table."""
    dest = {"dest": prop.snake}
    if prop.kind == BOOLEAN:  # a flag that flips the default
        return {**dest, "action": "store_false" if prop.default else "store_true"}
    if isinstance(prop.kind, MapOf):  # KEY=VALUE, repeatable
        return {**dest, "action": "append", "type": pair, "metavar": "KEY=VALUE",
                "required": prop.required, "default": None if prop.required else []}  # fmt: skip
    number = {"type": float} if prop.kind == NUMBER else {}
    return {**dest, **number, "required": prop.required, "default": prop.default}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Publish; returns ``{"manifest": ..., "components": {target: {..., "arn": ...}}}``."""
    # the Pulumi SDK: only when needed
    from ._host import from_state
    from .model_component import DdaModelComponentProvider

    provider = DdaModelComponentProvider()
    props: dict[str, Any] = {
        p.snake: dict(value) if isinstance(p.kind, MapOf) else value
        for p in MODEL.inputs
        if p.cli is not None and (value := getattr(args, p.snake)) is not None
    }
    props["owner"] = OWNER_PREFIX + args.component_name
    checked = provider.check({}, props)
    if checked.failures:
        first = checked.failures[0]
        raise InputError(first.reason, field=first.property)
    outs = from_state(provider.create(checked.inputs).outs or {}, provider.STATE_ONLY)
    return {"manifest": outs["manifest"], "components": outs["components"]}
