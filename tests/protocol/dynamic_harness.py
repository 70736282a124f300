"""Drive a dynamic provider through Pulumi's own gRPC server, as the engine does.

``python -m pulumi.dynamic`` is the process the engine starts for dynamic resources (via the
``pulumi-resource-pulumi-python`` plugin). This harness starts it, sends ``Configure``,
``Check``, ``Diff``, ``Create``, ``Update``, ``Read`` and ``Delete`` requests with properties
serialised by the SDK's own ``rpc`` module (see :mod:`provider_process`), and carries the
serialised provider in ``__provider`` exactly as ``pulumi.dynamic.Resource`` does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2
from provider_process import LifecycleClient, endpoint_env, props_of
from pulumi.dynamic.dynamic import PROVIDER_KEY, ResourceProvider, serialize_provider

URN = "urn:pulumi:test::pulumi-dda::pulumi-python:dynamic/dda:ModelComponent::model"
REGION = "us-east-1"
MODELS_BUCKET = "ml-models"
ARTIFACT_BUCKET = "edge-artifacts"
OWNER = "pulumi-dda/test/model"


class DynamicProviderProcess(LifecycleClient):
    """One ``python -m pulumi.dynamic`` server process and a gRPC client for it."""

    def __init__(self, provider: ResourceProvider, env: dict[str, str], log: Path) -> None:
        self.serialized = serialize_provider(provider)
        super().__init__([sys.executable, "-u", "-m", "pulumi.dynamic"], env, log)

    def _urn(self, props: dict[str, Any]) -> str:
        return URN

    def _wire(self, props: dict[str, Any]) -> dict[str, Any]:
        return {**props, PROVIDER_KEY: self.serialized}

    def _props(self, value: struct_pb2.Struct) -> dict[str, Any]:
        props = props_of(value)
        props.pop(PROVIDER_KEY, None)
        return props


def start_provider(
    provider: ResourceProvider, endpoint_url: str, log: Path, extra: dict[str, str] | None = None
) -> DynamicProviderProcess:
    """A provider server talking to the local endpoint, configured as the engine would."""
    env = {**(extra or {}), **endpoint_env(endpoint_url), "PULUMI_PROJECT": "pulumi-dda"}
    process = DynamicProviderProcess(provider, env, log)
    process.configure({"aws:region": REGION})
    return process
