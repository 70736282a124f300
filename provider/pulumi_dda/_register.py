"""How a Python program's resource reaches the ``dda`` plugin (used by :mod:`.resources`).

The plugin is the one host of the lifecycle for every language: a Python program registers
``dda:index:ModelComponent`` / ``dda:index:GreengrassDeployment`` like any provider's resource
(the project's ``Pulumi.yaml`` names the plugin under ``packages:``). Properties and the keys
of nested objects are snake_case in Python and camelCase in the schema: the SDK renames them
both ways with :func:`input_name` / :func:`output_name`.

**Upgrading stacks.** These resources used to be Pulumi dynamic resources, served by the SDK's
dynamic provider (types ``pulumi-python:dynamic/dda:…``, before that the generic
``pulumi-python:dynamic:Resource``). Aliases to both types move an existing stack's resources to
the plugin in place: the engine diffs the old state with the plugin, which reads the dynamic
state (snake_case keys, ``__``-prefixed bookkeeping) and rewrites it in an update that calls
no AWS API besides re-tagging (see :meth:`pulumi_dda.plugin.server.DdaProviderServicer.Diff`).
"""

from __future__ import annotations

from typing import Any

import pulumi

from .plugin.schema import NAME_TO_SNAKE, SNAKE_TO_NAME
from .properties import LEGACY_TYPES, MODEL_COMPONENT, ResourceType


def register(
    resource: pulumi.CustomResource,
    table: ResourceType,
    name: str,
    values: dict[str, Any],
    opts: pulumi.ResourceOptions | None,
) -> None:
    """Register ``resource`` (of ``table``'s type) with the inputs given in ``values``."""
    missing = [p.snake for p in table.inputs if p.required and values.get(p.snake) is None]
    if missing:
        raise TypeError(f"{name}: missing required inputs {', '.join(missing)}")
    if table.token == MODEL_COMPONENT and values.get("region") is None:
        # The stack's aws:region, which a plugin cannot read (it sees only dda:*): what the
        # resource did as a dynamic resource (see the plugin's Diff for stacks made then).
        values = {**values, "region": pulumi.Config("aws").get("region")}
    if not (opts and (opts.provider or opts.providers)):
        _warn_of_aws_profile()
    props = {p.snake: values[p.snake] for p in table.inputs if values.get(p.snake) is not None}
    props.update(dict.fromkeys(p.snake for p in table.outputs))
    aliases = [pulumi.Alias(type_=t) for t in LEGACY_TYPES[table.token]]
    opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=aliases))
    pulumi.CustomResource.__init__(resource, table.token, name, props, opts)


_warned: set[str] = set()


def _warn_of_aws_profile() -> None:
    """Once per program: the stack's ``aws:profile`` does not reach the plugin (it reads only
    ``dda:*``), so resources would call AWS with the standard environment's credentials, maybe
    another account's. (The region is passed as an input instead; a profile is not one: it
    names credentials, and changing it must not change a resource.)"""
    profile = pulumi.Config("aws").get("profile")
    if not profile or profile in _warned or pulumi.Config("dda").get("profile") is not None:
        return
    _warned.add(profile)
    pulumi.log.warn(
        f"stack config aws:profile ({profile}) is not used by pulumi-dda, whose provider reads "
        f"only its own config: run `pulumi config set dda:profile {profile}` (or set "
        "AWS_PROFILE) so that its resources call AWS with that profile"
    )


def input_name(prop: str) -> str:
    """The schema's name of a property or object key (``model_name`` → ``modelName``); the SDK
    applies it to every key it sends, nested ones included."""
    return SNAKE_TO_NAME.get(prop, prop)


def output_name(prop: str) -> str:
    """The inverse of :func:`input_name`, for every key the engine sends back."""
    return NAME_TO_SNAKE.get(prop, prop)
