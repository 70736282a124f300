"""The ``dda`` provider plugin's gRPC server: the dynamic providers' hooks behind a schema.

The engine talks to this process as to any resource provider. Each call is translated at the
edge (:mod:`.schema`: camelCase in, snake_case to the hooks, back out) and handed to the same
provider object the Python ``DdaModelComponent`` / ``GreengrassDeployment`` use, in this
process: the lifecycle is implemented once, in :mod:`..model_component` and
:mod:`..deployment`. The call semantics are those of Pulumi's dynamic provider server
(``python -m pulumi.dynamic``): the same property (de)serialisation, unknowns kept for check,
diff and previews, a create's preview answered with the checked inputs (so ``versions`` is
known in a preview), four worker threads. What only a real provider has: previews of updates
(``planned_update``: the outputs the update will have, so a tags-only update's diff shows only
the tags), ``GetSchema``, the provider's own config (``dda:region``, ``dda:profile``, handed
to the hooks as ``aws:region`` / ``aws:profile``), and ``owner`` taken from the URN
(``<project>/<stack>/<name>``, what the Python resource classes set). Failures and error
messages name the schema's properties.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent import futures
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
from pulumi.dynamic import CheckFailure, ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime import proto, rpc
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2_grpc

from pulumi_dda._host import AwsResourceProvider, add_progress_sink, from_state, watch_engine
from pulumi_dda._types import JSONDict
from pulumi_dda.deployment import GreengrassDeploymentProvider
from pulumi_dda.errors import DdaError
from pulumi_dda.model_component import DdaModelComponentProvider

from . import schema
from .schema import RESOURCES, ResourceType

_T = TypeVar("_T")
_URN: contextvars.ContextVar[str] = contextvars.ContextVar("urn", default="")
"""The resource whose hook is running (progress lines are logged against it)."""
_RUNNING: dict[str, int] = {}
"""URNs of the hooks running now: a line from a thread that has no context (boto3's transfer
threads) belongs to the one resource whose hook runs, if there is only one."""
_RUNNING_LOCK = threading.Lock()
LEGACY_STATE_KEY = "__provider"
"""The pickled provider every Pulumi dynamic resource keeps in its state."""


def owner_of(urn: str) -> str:
    """``project/stack/name`` from ``urn:pulumi:<stack>::<project>::<type>::<name>``."""
    stack, project, _type, name = urn.removeprefix("urn:pulumi:").split("::", 3)
    return f"{project}/{stack}/{name}"


def _props(struct: struct_pb2.Struct, *, keep_unknowns: bool | None = None) -> JSONDict:
    return dict(rpc.deserialize_properties(struct, keep_unknowns) or {})


def _struct(props: JSONDict) -> struct_pb2.Struct:
    return asyncio.run(rpc.serialize_properties(props, {}))


class _Failed(Exception):
    """A hook failed; ``message`` is what the engine shows."""


def _calling(urn: str, hook: Callable[[], _T]) -> _T:
    _URN.set(urn)
    with _RUNNING_LOCK:
        _RUNNING[urn] = _RUNNING.get(urn, 0) + 1
    try:
        return hook()
    except DdaError as exc:
        raise _Failed(schema.schema_names(str(exc))) from exc
    except Exception as exc:
        raise _Failed(schema.schema_names(traceback.format_exc())) from exc
    finally:
        with _RUNNING_LOCK:
            _RUNNING[urn] -= 1
            if not _RUNNING[urn]:
                del _RUNNING[urn]


def _current_urn() -> str:
    if urn := _URN.get():
        return urn
    with _RUNNING_LOCK:
        return next(iter(_RUNNING)) if len(_RUNNING) == 1 else ""


def _rpc(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(self: DdaProviderServicer, request: Any, context: grpc.ServicerContext) -> Any:
        try:
            return method(self, request, context)
        except _Failed as exc:
            context.abort(grpc.StatusCode.UNKNOWN, str(exc))
        except Exception:
            context.abort(grpc.StatusCode.UNKNOWN, traceback.format_exc())

    return call


class DdaProviderServicer(provider_pb2_grpc.ResourceProviderServicer):
    """``ResourceProvider`` of the ``dda`` package."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._providers: dict[str, AwsResourceProvider] = {}
        self._configure({})

    def _configure(self, config: JSONDict) -> None:
        aws = {"aws:region": config.get("region") or "", "aws:profile": config.get("profile") or ""}
        request = ConfigureRequest(Config(raw_config=aws, project_name=schema.PACKAGE))
        providers: dict[str, AwsResourceProvider] = {
            schema.MODEL_COMPONENT: DdaModelComponentProvider(),
            schema.GREENGRASS_DEPLOYMENT: GreengrassDeploymentProvider(),
        }
        for provider in providers.values():
            provider.configure(request)
        with self._lock:
            self._providers = providers

    def _resource(self, urn: str) -> tuple[ResourceType, AwsResourceProvider]:
        token = urn.split("::")[2].rsplit("$", 1)[-1]
        if token not in RESOURCES:
            raise _Failed(f"unknown resource type {token} (this provider has {sorted(RESOURCES)})")
        with self._lock:
            return RESOURCES[token], self._providers[token]

    # plugin and provider configuration ---------------------------------------------------------

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return proto.PluginInfo(version=schema.package_version())

    def GetSchema(self, request: Any, context: Any) -> Any:
        return proto.GetSchemaResponse(schema=json.dumps(schema.package_schema()))

    @_rpc
    def CheckConfig(self, request: Any, context: Any) -> Any:
        news = _props(request.news, keep_unknowns=True)
        failures = [
            proto.CheckFailure(property=p.name, reason=f"{p.name} must be a string")
            for p in schema.CONFIG
            if news.get(p.name) is not None and not isinstance(news[p.name], str)
        ]
        return proto.CheckResponse(inputs=request.news, failures=failures)

    @_rpc
    def DiffConfig(self, request: Any, context: Any) -> Any:
        olds = _props(request.olds, keep_unknowns=True)
        news = _props(request.news, keep_unknowns=True)
        changed = [p.name for p in schema.CONFIG if olds.get(p.name) != news.get(p.name)]
        return proto.DiffResponse(
            changes=proto.DiffResponse.DIFF_SOME if changed else proto.DiffResponse.DIFF_NONE,
            diffs=changed,
        )

    @_rpc
    def Configure(self, request: Any, context: Any) -> Any:
        config = {k: rpc.unwrap_rpc_secret(v) for k, v in _props(request.args).items()}
        for key, value in request.variables.items():  # engines that send only variables
            config.setdefault(key.removeprefix(f"{schema.PACKAGE}:"), value)
        self._configure(config)
        return proto.ConfigureResponse(
            acceptSecrets=False, supportsPreview=True, acceptResources=False
        )

    # resources -------------------------------------------------------------------------------

    @_rpc
    def Check(self, request: Any, context: Any) -> Any:
        resource, provider = self._resource(request.urn)
        program_inputs = _props(request.news, keep_unknowns=True)
        olds = schema.to_provider(resource, _props(request.olds, keep_unknowns=True))
        news = schema.to_provider(resource, program_inputs)
        news = {**schema.with_defaults(resource, news), "owner": owner_of(request.urn)}
        result = _calling(request.urn, lambda: provider.check(olds, news))
        failures: list[CheckFailure] = list(result.failures or [])
        found = schema.unknown_keys(resource, program_inputs) + [
            (schema.schema_names(f.property), schema.schema_names(f.reason)) for f in failures
        ]
        # The schema and the provider may refuse the same key: one line each, said once.
        unique = list(dict.fromkeys(found))
        return proto.CheckResponse(
            inputs=_struct(schema.from_provider(resource, result.inputs or {})),
            failures=[proto.CheckFailure(property=p, reason=r) for p, r in unique],
        )

    @_rpc
    def Diff(self, request: Any, context: Any) -> Any:
        resource, provider = self._resource(request.urn)
        raw_olds = _props(request.olds, keep_unknowns=True)
        olds = schema.to_provider(resource, raw_olds)
        news = schema.to_provider(resource, _props(request.news, keep_unknowns=True))
        legacy = LEGACY_STATE_KEY in raw_olds
        if legacy and not olds.get("region") and resource is schema.MODEL:
            # A dynamic resource without a region input used the stack's aws:region, which the
            # Python class now passes as the input: the same region, not a change.
            olds = {**olds, "region": news.get("region")}
        result = _calling(request.urn, lambda: provider.diff(request.id, olds, news))
        # State a dynamic resource left (a stack from before the plugin served Python
        # programs, moved here by an alias): rewritten by an update, nothing replaced.
        if not result.changes and not legacy:
            return proto.DiffResponse(changes=proto.DiffResponse.DIFF_NONE)
        replaces = [schema.schema_names(k) for k in result.replaces or []]
        detailed = schema.detailed_diff(
            resource,
            schema.from_provider(resource, from_state(olds, provider.STATE_ONLY)),
            schema.from_provider(resource, news),
            set(replaces),
        )
        return proto.DiffResponse(
            changes=proto.DiffResponse.DIFF_SOME,
            replaces=replaces,
            deleteBeforeReplace=bool(result.delete_before_replace),
            diffs=sorted({path.split("[")[0] for path in detailed}),
            detailedDiff={
                path: proto.PropertyDiff(kind=kind, inputDiff=True)  # type: ignore[arg-type]
                for path, kind in detailed.items()
            },
            hasDetailedDiff=True,
        )

    @_rpc
    def Create(self, request: Any, context: Any) -> Any:
        resource, provider = self._resource(request.urn)
        if request.preview:  # a create's outputs are known once it ran: its inputs stand for them
            return proto.CreateResponse(properties=request.properties)
        props = schema.to_provider(resource, _props(request.properties))
        result = _calling(request.urn, lambda: provider.create(props))
        outs = schema.from_provider(resource, result.outs or {})
        return proto.CreateResponse(id=result.id, properties=_struct(outs))

    @_rpc
    def Read(self, request: Any, context: Any) -> Any:
        resource, provider = self._resource(request.urn)
        props = _props(request.properties) or _props(request.inputs)
        props = schema.to_provider(resource, props)
        result = _calling(request.urn, lambda: provider.read(request.id, props))
        fields: JSONDict = {
            "id": result.id,
            "properties": _struct(schema.from_provider(resource, result.outs or {})),
        }
        if result.inputs is not None:
            fields["inputs"] = _struct(schema.from_provider(resource, result.inputs))
        return proto.ReadResponse(**fields)

    @_rpc
    def Update(self, request: Any, context: Any) -> Any:
        resource, provider = self._resource(request.urn)
        keep = bool(request.preview)
        olds = schema.to_provider(resource, _props(request.olds, keep_unknowns=keep))
        news = schema.to_provider(resource, _props(request.news, keep_unknowns=keep))
        # Provider previews: the outputs the update will have (the old ones where it keeps
        # them), so a preview's diff shows only what changes, not every output as removed.
        update = provider.planned_update if request.preview else provider.update
        result = _calling(request.urn, lambda: update(request.id, olds, news))
        outs = schema.from_provider(resource, result.outs or {})
        return proto.UpdateResponse(properties=_struct(outs))

    @_rpc
    def Delete(self, request: Any, context: Any) -> Any:
        resource, provider = self._resource(request.urn)
        props = schema.to_provider(resource, _props(request.properties))
        _calling(request.urn, lambda: provider.delete(request.id, props))
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()


class EngineLog:
    """Progress lines as the engine's info messages on the resource whose hook runs: the engine
    shows a provider plugin's stderr only when it fails to start."""

    def __init__(self, address: str) -> None:
        self._engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))

    def __call__(self, message: str, keep: bool) -> None:
        request = engine_pb2.LogRequest(
            severity=engine_pb2.INFO,
            message=schema.schema_names(message),
            urn=_current_urn(),
            ephemeral=not keep,
        )
        # A lost progress line must not fail the operation (stderr has it).
        with contextlib.suppress(grpc.RpcError):
            self._engine.Log(request, timeout=10)


def serve(engine_address: str = "", out: Any = None) -> None:
    """Serve on a free local port, print the port (the engine reads it), run until killed.
    With the engine's address, progress lines are logged to the engine."""
    if engine_address:
        add_progress_sink(EngineLog(engine_address))
        watch_engine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(DdaProviderServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stream = out or sys.stdout
    stream.write(f"{port}\n")
    stream.flush()
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(0)
