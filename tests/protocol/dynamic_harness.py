"""Drive a dynamic provider through Pulumi's own gRPC server, as the engine does.

``python -m pulumi.dynamic`` is the process the engine starts for dynamic resources (via the
``pulumi-resource-pulumi-python`` plugin). This harness starts it, sends ``Configure``,
``Check``, ``Diff``, ``Create``, ``Update``, ``Read`` and ``Delete`` requests with properties
serialised by the SDK's own ``rpc`` module, and carries the serialised provider in
``__provider`` exactly as ``pulumi.dynamic.Resource`` does.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import PROVIDER_KEY, ResourceProvider, serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

URN = "urn:pulumi:test::pulumi-dda::pulumi-python:dynamic/dda:ModelComponent::model"
REGION = "us-east-1"
MODELS_BUCKET = "ml-models"
ARTIFACT_BUCKET = "edge-artifacts"
OWNER = "pulumi-dda/test/model"


def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    return asyncio.run(rpc.serialize_properties(props, {}))


def _dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    props = rpc.deserialize_properties(struct, keep_unknowns=True)
    props.pop(PROVIDER_KEY, None)
    return dict(props)


class ProviderError(Exception):
    """The provider server answered a call with an error (its message holds the traceback)."""


class DynamicProviderProcess:
    """One ``python -m pulumi.dynamic`` server process and a gRPC client for it."""

    def __init__(self, provider: ResourceProvider, env: dict[str, str], log: Path) -> None:
        self.serialized = serialize_provider(provider)
        self.log_path = log
        self._log = log.open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, **env},
        )
        assert self._proc.stdout is not None
        port = int(self._proc.stdout.readline().decode().strip())
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)

    def stop(self) -> None:
        self._channel.close()
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._log.close()

    def stderr(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def _with_provider(self, props: dict[str, Any]) -> dict[str, Any]:
        return {**props, PROVIDER_KEY: self.serialized}

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as exc:
            raise ProviderError(exc.details()) from None

    def configure(self, config: dict[str, str]) -> None:
        self._call("Configure", provider_pb2.ConfigureRequest(args=_struct(config)))

    def check(
        self, olds: dict[str, Any], news: dict[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        olds_s = _struct(self._with_provider(olds)) if olds else _struct({})
        request = provider_pb2.CheckRequest(
            urn=URN, olds=olds_s, news=_struct(self._with_provider(news))
        )
        response = self._call("Check", request)
        return _dict(response.inputs), [(f.property, f.reason) for f in response.failures]

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> Any:
        request = provider_pb2.DiffRequest(
            id=id_,
            urn=URN,
            olds=_struct(self._with_provider(olds)),
            news=_struct(self._with_provider(news)),
        )
        return self._call("Diff", request)

    def create(self, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        request = provider_pb2.CreateRequest(
            urn=URN, properties=_struct(self._with_provider(props))
        )
        response = self._call("Create", request)
        return response.id, _dict(response.properties)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        request = provider_pb2.UpdateRequest(
            id=id_,
            urn=URN,
            olds=_struct(self._with_provider(olds)),
            news=_struct(self._with_provider(news)),
        )
        return _dict(self._call("Update", request).properties)

    def read(self, id_: str, props: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        request = provider_pb2.ReadRequest(
            id=id_, urn=URN, properties=_struct(self._with_provider(props))
        )
        response = self._call("Read", request)
        return response.id, _dict(response.properties), _dict(response.inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        request = provider_pb2.DeleteRequest(
            id=id_, urn=URN, properties=_struct(self._with_provider(props))
        )
        self._call("Delete", request)


def start_provider(
    provider: ResourceProvider, endpoint_url: str, log: Path, extra: dict[str, str] | None = None
) -> DynamicProviderProcess:
    """A provider server talking to the local endpoint, configured as the engine would."""
    env = {
        **(extra or {}),
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_REGION": "",
        "AWS_DEFAULT_REGION": "",
        "PULUMI_PROJECT": "pulumi-dda",
    }
    process = DynamicProviderProcess(provider, env, log)
    process.configure({"aws:region": REGION})
    return process
