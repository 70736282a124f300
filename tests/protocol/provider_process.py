"""One provider server process and a gRPC client for it: what both protocol harnesses share.

The engine starts a provider (``python -m pulumi.dynamic`` for dynamic resources, the ``dda``
plugin folder for the plugin), reads the port it serves on from its first stdout line and talks
gRPC to it. :class:`ProviderProcess` does that, keeps the process's stderr in a log file and
stops it. :class:`LifecycleClient` adds the calls the protocol tests make (``Configure``,
``Check``, ``Diff``, ``Create``, ``Update``, ``Read``, ``Delete``) in the providers' own
snake_case; each harness says only how properties, URNs and names cross its wire.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

REGION = "us-east-1"
MODELS_BUCKET = "ml-models"
ARTIFACT_BUCKET = "edge-artifacts"
OWNER = "pulumi-dda/test/model"


class ProviderError(Exception):
    """The provider server answered a call with an error (its message holds the traceback)."""


def struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return asyncio.run(rpc.serialize_properties(props, {}))


def props_of(value: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(value, keep_unknowns=True) or {})


def endpoint_env(endpoint_url: str) -> dict[str, str]:
    """AWS clients of the provider talk to the local endpoint with dummy credentials, and no
    region but the one the provider is configured with."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_REGION": "",
        "AWS_DEFAULT_REGION": "",
    }


class ProviderProcess:
    """A provider server started with ``command`` and a gRPC client for it."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = log.open("wb")
        self._proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._log, env={**os.environ, **env}
        )
        assert self._proc.stdout is not None
        port = int(self._proc.stdout.readline().decode().strip())  # the engine's handshake
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


class LifecycleClient(ProviderProcess):
    """The providers' calls in their snake_case; a harness overrides how properties go out
    (:meth:`_wire`) and come back (:meth:`_props`), the URN, and the names in messages."""

    def _urn(self, props: dict[str, Any]) -> str:
        raise NotImplementedError

    def _wire(self, props: dict[str, Any]) -> dict[str, Any]:
        return props

    def _props(self, value: struct_pb2.Struct) -> dict[str, Any]:
        return props_of(value)

    def _names(self, text: str) -> str:
        return text

    def _config(self, config: dict[str, str]) -> dict[str, str]:
        return config

    def _program_inputs(self, news: dict[str, Any]) -> dict[str, Any]:
        """What the program sends to ``Check`` of the inputs the tests give."""
        return news

    def _call(self, method: str, request: Any) -> Any:
        try:
            return self.call(method, request)
        except ProviderError as exc:
            raise ProviderError(self._names(str(exc))) from None

    def configure(self, config: dict[str, str]) -> None:
        self._call("Configure", provider_pb2.ConfigureRequest(args=struct(self._config(config))))

    def check(
        self, olds: dict[str, Any], news: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        request = provider_pb2.CheckRequest(
            urn=self._urn(news),
            olds=struct(self._wire(olds)) if olds else struct({}),
            news=struct(self._wire(self._program_inputs(news))),
        )
        response = self._call("Check", request)
        failures = [(self._names(f.property), self._names(f.reason)) for f in response.failures]
        return self._props(response.inputs), failures

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        request = provider_pb2.DiffRequest(
            id=id_,
            urn=self._urn(news),
            olds=struct(self._wire(olds)),
            news=struct(self._wire(news)),
        )
        response = self._call("Diff", request)
        replaces = [self._names(k) for k in response.replaces]
        del response.replaces[:]
        response.replaces.extend(replaces)
        return response

    def create(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.CreateRequest(
            urn=self._urn(props), properties=struct(self._wire(props))
        )
        response = self._call("Create", request)
        return response.id, self._props(response.properties)

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any], *, preview: bool = False
    ) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(
            id=id_,
            urn=self._urn(news),
            olds=struct(self._wire(olds)),
            news=struct(self._wire(news)),
            preview=preview,
        )
        return self._props(self._call("Update", request).properties)

    def read(self, id_: str, props: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        request = provider_pb2.ReadRequest(
            id=id_, urn=self._urn(props), properties=struct(self._wire(props))
        )
        response = self._call("Read", request)
        return response.id, self._props(response.properties), self._props(response.inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        request = provider_pb2.DeleteRequest(
            id=id_, urn=self._urn(props), properties=struct(self._wire(props))
        )
        self._call("Delete", request)
