"""Drive the ``dda`` provider plugin with the dynamic providers' protocol tests.

:class:`PluginProviderProcess` starts the plugin folder the way the Python language host's
RunPlugin does (``python -u provider/pulumi-resource-dda``) and offers the interface of
:class:`dynamic_harness.DynamicProviderProcess`, so every protocol test of the dynamic
resources runs against the plugin unchanged. The tests speak the providers' snake_case; this
harness is the inverse of the plugin's edge: it sends camelCase properties of the resource's
schema type under a URN made from the test's ``owner`` (the plugin takes the owner from the
URN), and turns what comes back (inputs, outputs, failures, replaced keys, error messages) into
snake_case again. What the plugin itself shows (camelCase names) is tested in
``test_plugin.py``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
from dynamic_harness import REGION, ProviderError
from google.protobuf import struct_pb2
from pulumi.dynamic import ResourceProvider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_dda.deployment import GreengrassDeploymentProvider
from pulumi_dda.plugin import schema
from pulumi_dda.plugin.schema import ResourceType

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "provider" / "pulumi-resource-dda"
SNAPSHOT = PLUGIN_DIR / "schema.json"


def urn_of(resource: ResourceType, owner: str) -> str:
    project, stack, name = owner.split("/", 2)
    return f"urn:pulumi:{stack}::{project}::{resource.token}::{name}"


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return asyncio.run(rpc.serialize_properties(props, {}))


def props_of(value: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(value, keep_unknowns=True) or {})


class PluginProcess:
    """The plugin process and a gRPC client; calls in the schema's own names."""

    def __init__(self, env: dict[str, str], log: Path, engine: str = "") -> None:
        self.log_path = log
        self._log = log.open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, "-u", str(PLUGIN_DIR), *([engine] if engine else [])],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, **env},
        )
        assert self._proc.stdout is not None
        port = int(self._proc.stdout.readline().decode().strip())
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as exc:
            raise ProviderError(exc.details()) from None

    def stop(self) -> None:
        self._channel.close()
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._log.close()

    def stderr(self) -> str:
        self._log.flush()
        return self.log_path.read_text()


class PluginProviderProcess(PluginProcess):
    """One resource type of the plugin, with ``DynamicProviderProcess``'s snake_case calls."""

    def __init__(self, resource: ResourceType, env: dict[str, str], log: Path) -> None:
        super().__init__(env, log)
        self.resource = resource

    def _camel(self, props: dict[str, Any]) -> dict[str, Any]:
        return schema.from_provider(self.resource, props)

    def _snake(self, value: struct_pb2.Struct) -> dict[str, Any]:
        return schema.to_provider(self.resource, props_of(value))

    def _urn(self, props: dict[str, Any]) -> str:
        return urn_of(self.resource, str(props.get("owner") or "pulumi-dda/test/model"))

    def _call(self, method: str, request: Any) -> Any:
        try:
            return self.call(method, request)
        except ProviderError as exc:
            raise ProviderError(schema.provider_names(str(exc))) from None

    def configure(self, config: dict[str, str]) -> None:
        args = {key.removeprefix("aws:"): value for key, value in config.items()}
        self._call("Configure", provider_pb2.ConfigureRequest(args=struct(args)))

    def check(
        self, olds: dict[str, Any], news: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        program_inputs = {k: v for k, v in news.items() if k != "owner"}
        request = provider_pb2.CheckRequest(
            urn=self._urn(news),
            olds=struct(self._camel(olds)),
            news=struct(self._camel(program_inputs)),
        )
        response = self._call("Check", request)
        failures = [
            (schema.provider_names(f.property), schema.provider_names(f.reason))
            for f in response.failures
        ]
        return self._snake(response.inputs), failures

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        request = provider_pb2.DiffRequest(
            id=id_,
            urn=self._urn(news),
            olds=struct(self._camel(olds)),
            news=struct(self._camel(news)),
        )
        response = self._call("Diff", request)
        replaces = [schema.provider_names(k) for k in response.replaces]
        del response.replaces[:]
        response.replaces.extend(replaces)
        return response

    def create(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.CreateRequest(
            urn=self._urn(props), properties=struct(self._camel(props))
        )
        response = self._call("Create", request)
        return response.id, self._snake(response.properties)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(
            id=id_,
            urn=self._urn(news),
            olds=struct(self._camel(olds)),
            news=struct(self._camel(news)),
        )
        return self._snake(self._call("Update", request).properties)

    def read(self, id_: str, props: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        request = provider_pb2.ReadRequest(
            id=id_, urn=self._urn(props), properties=struct(self._camel(props))
        )
        response = self._call("Read", request)
        return response.id, self._snake(response.properties), self._snake(response.inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        request = provider_pb2.DeleteRequest(
            id=id_, urn=self._urn(props), properties=struct(self._camel(props))
        )
        self._call("Delete", request)


def plugin_env(endpoint_url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_REGION": "",
        "AWS_DEFAULT_REGION": "",
    }


def start_plugin(
    provider: ResourceProvider, endpoint_url: str, log: Path, extra: dict[str, str] | None = None
) -> PluginProviderProcess:
    """The plugin serving ``provider``'s resource type, configured with the region."""
    resource = (
        schema.DEPLOYMENT if isinstance(provider, GreengrassDeploymentProvider) else schema.MODEL
    )
    env = {**plugin_env(endpoint_url), **(extra or {})}
    process = PluginProviderProcess(resource, env, log)
    process.configure({"aws:region": REGION})
    return process
