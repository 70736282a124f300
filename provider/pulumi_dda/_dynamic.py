"""What both dynamic providers share: stack-config AWS settings, progress lines, unknowns,
and expected failures shown as one line.

Providers are pickled into Pulumi state by reference, so this base class must stay importable
under this name and hold nothing but plain strings.

**Errors without tracebacks.** Pulumi's dynamic-provider server (``pulumi.dynamic.__main__``,
SDK 3.272) wraps every hook in ``_abort_with_traceback``: whatever a hook raises is sent to the
engine as gRPC status ``UNKNOWN`` whose details are ``traceback.format_exc()``, and the engine
prints those details as the resource's error — a 40-line traceback around one useful line.
Check failures are returned as data and never raise. For the other hooks, :func:`one_line`
catches this project's own :class:`~pulumi_dda.errors.DdaError` (an expected failure: bad
input, an AWS error, a timeout), sets the status and details on the call's gRPC context itself,
and returns normally: the engine then shows ``error: <message>``. The context is the
``context`` argument of the server's handler, found on the call stack. Unexpected exceptions
(bugs) keep their traceback, and ``PULUMI_DDA_DEBUG=1`` keeps it for every error.

**Progress on the resource's own line.** The engine starts a provider plugin with the address
of its host server as the first argument (``python -m pulumi.dynamic 127.0.0.1:PORT``); that
server implements the ``Engine`` service, whose ``Log`` call takes the URN a message concerns
and an ``ephemeral`` flag (a status line that replaces the previous one and is not repeated in
the Diagnostics summary). Text written to stderr, by contrast, is shown once on the Stack line
and again under Diagnostics. So :func:`progress` sends each line to the engine against the
resource the current hook serves (its URN is taken from the gRPC request, like the context
above): progress as ephemeral status, outcomes worth keeping (a version kept and why, adopted,
deleted) as one ``info`` diagnostic of that resource. Without an engine (Pulumi's provider
server run by hand, as the protocol tests do) lines go to stderr.

**A progress line never fails an operation, and a provider outlives no engine.** When the
engine dies (the CLI killed), its ``Log`` service refuses and the provider's stderr pipe
breaks; :func:`progress` swallows both. The provider process itself would otherwise serve on
for ever and finish its hooks on its own — and a create's clean-up after a failure would
release a version that a retried ``up`` (``pulumi cancel && pulumi up``) has just reclaimed as
the same instance. So :func:`watch_engine` exits the process as soon as its parent (the
engine, or the language host that ran the plugin) is gone, without undoing anything: what a
dead create left is the next run's to reclaim or sweep (see :mod:`.ownership`), and
:func:`engine_gone` lets a clean-up that is already running stop short.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import grpc
import pulumi
from pulumi.dynamic import ConfigureRequest, ResourceProvider, UpdateResult
from pulumi.output import Unknown
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc
from pulumi.runtime.rpc import UNKNOWN

from ._types import JSONDict
from .aws import AwsClients, AwsSettings
from .errors import DdaError

H = TypeVar("H", bound=Callable[..., Any])

_progress_sinks: list[Callable[[str, bool], None]] = []


def add_progress_sink(sink: Callable[[str, bool], None]) -> None:
    """Also send every progress line to ``sink`` (the provider plugin logs them to the engine,
    which hides a provider plugin's stderr)."""
    _progress_sinks.append(sink)


DYNAMIC_SERVER = "pulumi/dynamic/__main__.py"
_URN: contextvars.ContextVar[str] = contextvars.ContextVar("pulumi_dda_urn", default="")


@functools.cache
def _engine() -> engine_pb2_grpc.EngineStub | None:
    """The engine's ``Engine`` service, when this process is a plugin the engine started."""
    main = sys.argv[0].replace(os.sep, "/")
    if not main.endswith(DYNAMIC_SERVER) or len(sys.argv) < 2:
        return None
    return engine_pb2_grpc.EngineStub(grpc.insecure_channel(sys.argv[1]))


def progress(message: str, *, keep: bool = False, urn: str = "") -> None:
    """One line about the resource the current hook serves (or ``urn``): a passing status
    line, or with ``keep`` a diagnostic that stays in the output (see the module docstring)."""
    engine, urn = _engine(), urn or _URN.get()
    if engine is not None and urn:
        request = engine_pb2.LogRequest(
            severity=engine_pb2.INFO, message=message, urn=urn, ephemeral=not keep
        )
        try:
            engine.Log(request, timeout=LOG_TIMEOUT)
            return
        except grpc.RpcError:
            pass  # the engine went away: stderr still reaches a person running it by hand
    # Nobody may read stderr any more (a dead engine): a lost line never fails the operation.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(f"pulumi-dda: {message}\n")
        sys.stderr.flush()
    for sink in _progress_sinks:
        with contextlib.suppress(Exception):
            sink(message, keep)


LOG_TIMEOUT = 10.0
WATCH_INTERVAL = 0.2
EXIT_ENGINE_GONE = 70
"""The exit status of a provider whose engine went away (``EX_SOFTWARE``)."""
_parent = os.getppid()
_watching = threading.Lock()
_watcher: list[threading.Thread] = []


def engine_gone() -> bool:
    """The process that started this provider (the engine) is no longer its parent."""
    return os.getppid() != _parent


def watch_engine() -> None:
    """Exit this process as soon as the engine that started it is gone (idempotent; see the
    module docstring). Nothing is undone: the next run reclaims or sweeps what is left."""
    with _watching:
        if _watcher:
            return

        def watch() -> None:
            while not engine_gone():
                time.sleep(WATCH_INTERVAL)
            os._exit(EXIT_ENGINE_GONE)

        _watcher.append(threading.Thread(target=watch, name="pulumi-dda-engine", daemon=True))
        _watcher[0].start()


def progress_here(prefix: str = "") -> Callable[[str], None]:
    """:func:`progress` bound to the current resource, for threads the hook does not own
    (s3transfer calls upload callbacks from its own)."""
    urn = _URN.get()
    return lambda message: progress(prefix + message, urn=urn)


def is_unknown(value: Any) -> bool:
    """A value another resource computes, not known during a preview."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def is_known(value: Any) -> bool:
    """No unknown value anywhere inside ``value``."""
    if isinstance(value, Mapping):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return not is_unknown(value)


def _call() -> tuple[grpc.ServicerContext | None, str]:
    """The gRPC context and resource URN of the request the current hook serves, when Pulumi's
    dynamic-provider server calls it (the ``dda`` plugin handles errors and URNs itself)."""
    frame = sys._getframe(2)
    while frame is not None:
        context = frame.f_locals.get("context")
        if isinstance(context, grpc.ServicerContext):
            if not frame.f_code.co_filename.replace(os.sep, "/").endswith(DYNAMIC_SERVER):
                break
            return context, str(getattr(frame.f_locals.get("request"), "urn", ""))
        frame = frame.f_back  # type: ignore[assignment]
    return None, ""


_RAISE = object()
STATE_PREFIX = "__"


def from_state(props: JSONDict, keys: tuple[str, ...]) -> JSONDict:
    """``props`` with each state-only key ``__<key>`` named ``<key>`` (states written before
    these keys were hidden have the plain names already)."""
    out = dict(props)
    for key in keys:
        if STATE_PREFIX + key in out:
            out[key] = out.pop(STATE_PREFIX + key)
    return out


def to_state(props: JSONDict, keys: tuple[str, ...]) -> JSONDict:
    """``props`` with each of ``keys`` renamed ``__<key>``: the engine shows no property whose
    name starts with ``__`` in a preview, so bookkeeping never clutters a diff."""
    out = dict(props)
    for key in keys:
        if key in out:
            out[STATE_PREFIX + key] = out.pop(key)
    return out


def hook(failed: Any = _RAISE) -> Callable[[H], H]:
    """Wrap a provider hook: its progress lines go to the resource it serves, and (when
    ``failed`` is given) a :class:`DdaError` becomes the engine's one-line error, the hook
    returning ``failed``.

    The provider's ``STATE_ONLY`` keys are kept in state as ``__<key>`` (hidden from previews,
    see :func:`to_state`); the hook itself sees and returns the plain names."""

    def decorate(method: H) -> H:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if _engine() is not None:
                watch_engine()
            context, urn = _call()
            token = _URN.set(urn)
            keys: tuple[str, ...] = getattr(self, "STATE_ONLY", ())
            args = tuple(from_state(a, keys) if isinstance(a, dict) else a for a in args)
            try:
                result = method(self, *args, **kwargs)
                for attr in ("inputs", "outs"):
                    value = getattr(result, attr, None)
                    if isinstance(value, dict):
                        setattr(result, attr, to_state(value, keys))
                return result
            except DdaError as exc:
                if failed is _RAISE or context is None or os.environ.get("PULUMI_DDA_DEBUG"):
                    raise
                context.set_code(grpc.StatusCode.UNKNOWN)
                context.set_details(str(exc))
                return failed
            finally:
                _URN.reset(token)

        return wrapper  # type: ignore[return-value]

    return decorate


LEGACY_TYPE = "pulumi-python:dynamic:Resource"
"""The type every dynamic resource had before each got its own (``dynamic/dda:...``)."""


def typed_options(
    resource_type: str, opts: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions | None:
    """``opts`` plus an alias to the generic type, so stacks made before the resource had its
    own type token keep their resources (no replacement) when they upgrade."""
    if resource_type == LEGACY_TYPE:
        return opts
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=LEGACY_TYPE)])
    )


class AwsResourceProvider(ResourceProvider):
    """Reads ``aws:region`` and ``aws:profile`` from the stack config, as pulumi-aws does."""

    aws_region: str = ""
    aws_profile: str = ""
    STATE_ONLY: tuple[str, ...] = ()
    """Bookkeeping kept in state as ``__<key>`` (see :func:`hook`)."""

    def configure(self, req: ConfigureRequest) -> None:
        if _engine() is not None:
            watch_engine()
        self.aws_region = str(req.config.get("aws:region") or "")
        self.aws_profile = str(req.config.get("aws:profile") or "")

    def planned_update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        """What ``update`` will return, as far as a preview can know it (provider previews, which
        only the ``dda`` plugin offers; Pulumi's dynamic-provider server has none)."""
        raise NotImplementedError

    def clients(self, props: JSONDict, default_region: str = "") -> AwsClients:
        """Clients for one hook call: ``region`` input, else ``default_region``, else config."""
        owner = str(props.get("owner") or "pulumi-dda")
        return AwsClients(
            AwsSettings(
                region=props.get("region") or default_region or self.aws_region,
                profile=self.aws_profile,
                role_arn=props.get("role_arn") or "",
                session_name=f"pulumi-dda-{owner.replace('/', '-')}"[:64],
            )
        )
