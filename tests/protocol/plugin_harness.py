"""Drive the ``dda`` provider plugin, the one host of the lifecycle, in the protocol tests.

:class:`PluginProviderProcess` starts the plugin folder the way the Python language host's
RunPlugin does (``python -u provider/pulumi-resource-dda``) with the calls of
:class:`provider_process.LifecycleClient`. The tests speak the providers' snake_case; this
harness is the inverse of the plugin's edge: it sends camelCase properties of the resource's
schema type under a URN made from the test's ``owner`` (the plugin takes the owner from the
URN), and turns what comes back (inputs, outputs, failures, replaced keys, error messages) into
snake_case again. What the plugin itself shows (camelCase names) is tested in
``test_plugin.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from provider_process import REGION, LifecycleClient, endpoint_env, props_of
from pulumi.dynamic import ResourceProvider

from pulumi_dda.deployment import GreengrassDeploymentProvider
from pulumi_dda.plugin import schema
from pulumi_dda.plugin.schema import ResourceType

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "provider" / "pulumi-resource-dda"
SNAPSHOT = PLUGIN_DIR / "schema.json"


def plugin_command(engine: str = "") -> list[str]:
    """The plugin's command line; ``engine`` is the address of the engine's gRPC server."""
    return [sys.executable, "-u", str(PLUGIN_DIR), *([engine] if engine else [])]


def urn_of(resource: ResourceType, owner: str) -> str:
    project, stack, name = owner.split("/", 2)
    return f"urn:pulumi:{stack}::{project}::{resource.token}::{name}"


class PluginProviderProcess(LifecycleClient):
    """One resource type of the plugin, with ``PluginProviderProcess``'s snake_case calls."""

    def __init__(self, resource: ResourceType, env: dict[str, str], log: Path) -> None:
        super().__init__(plugin_command(), env, log)
        self.resource = resource

    def _urn(self, props: dict[str, Any]) -> str:
        return urn_of(self.resource, str(props.get("owner") or "pulumi-dda/test/model"))

    def _wire(self, props: dict[str, Any]) -> dict[str, Any]:
        return schema.from_provider(self.resource, props)

    def _props(self, value: struct_pb2.Struct) -> dict[str, Any]:
        return schema.to_provider(self.resource, props_of(value))

    def _names(self, text: str) -> str:
        return schema.provider_names(text)

    def _config(self, config: dict[str, str]) -> dict[str, str]:
        return {key.removeprefix("aws:"): value for key, value in config.items()}

    def _program_inputs(self, news: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in news.items() if k != "owner"}


def start_plugin(
    provider: ResourceProvider, endpoint_url: str, log: Path, extra: dict[str, str] | None = None
) -> PluginProviderProcess:
    """The plugin serving ``provider``'s resource type, configured with the region."""
    resource = (
        schema.DEPLOYMENT if isinstance(provider, GreengrassDeploymentProvider) else schema.MODEL
    )
    env = {**endpoint_env(endpoint_url), **(extra or {})}
    process = PluginProviderProcess(resource, env, log)
    process.configure({"aws:region": REGION})
    return process
