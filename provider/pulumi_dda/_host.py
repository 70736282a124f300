"""The lifecycle's host interface: what the providers need from whoever runs them.

Three hosts run the same provider hooks: the ``dda`` plugin (:mod:`.plugin.server`, for Pulumi
programs in every language), ``pulumi-dda publish`` (in-process) and, for stacks made before
the plugin served Python programs, Pulumi's dynamic-provider server (only until the next
``up`` moves them; see :mod:`._register`). The interface is small: :func:`progress` lines go to
the sinks the host added (the plugin logs them to the engine against the resource whose hook
runs; without a sink they go to stderr); the host turns a :class:`~pulumi_dda.errors.DdaError`
into its own one-line error; :func:`hook` keeps bookkeeping under ``__``-prefixed state keys;
:func:`watch_engine` ends a plugin whose engine is gone.

**A progress line never fails an operation, and a provider outlives no engine.** When the
engine dies (the CLI killed), its ``Log`` service refuses and the provider's stderr pipe
breaks; :func:`progress` swallows both. The provider process itself would otherwise serve on
for ever and finish its hooks on its own — and a create's clean-up after a failure would
release a version that a retried ``up`` (``pulumi cancel && pulumi up``) has just reclaimed as
the same instance. So :func:`watch_engine` exits the process as soon as its parent (the
language host that ran the plugin for the engine) is gone, without undoing anything: what a
dead create left is the next run's to reclaim or sweep (see :mod:`.ownership`), and
:func:`engine_gone` lets a clean-up that is already running stop short.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pulumi.dynamic import ConfigureRequest, ResourceProvider, UpdateResult
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from ._types import JSONDict
from .aws import AwsClients, AwsSettings, ClientCache

H = TypeVar("H", bound=Callable[..., Any])

_progress_sinks: list[Callable[[str, bool], None]] = []


def add_progress_sink(sink: Callable[[str, bool], None]) -> None:
    """Also send every progress line to ``sink`` (the provider plugin logs them to the engine,
    which hides a provider plugin's stderr)."""
    _progress_sinks.append(sink)


def progress(message: str, *, keep: bool = False) -> None:
    """One line about the resource the current hook serves: a passing status line, or with
    ``keep`` a diagnostic that stays in the output."""
    if not _progress_sinks:
        # Nobody may read stderr any more (a dead engine): a lost line never fails the operation.
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"pulumi-dda: {message}\n")
            sys.stderr.flush()
    for sink in _progress_sinks:
        with contextlib.suppress(Exception):
            sink(message, keep)


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
    """:func:`progress` with a prefix, for callbacks (s3transfer calls them from its threads; the
    plugin's sink finds the resource when only one hook runs)."""
    return lambda message: progress(prefix + message)


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


def hook(method: H) -> H:
    """Wrap a provider hook: the provider's ``STATE_ONLY`` keys are kept in state as
    ``__<key>`` (see :func:`to_state`); the hook itself sees and returns the plain names."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        keys: tuple[str, ...] = getattr(self, "STATE_ONLY", ())
        args = tuple(from_state(a, keys) if isinstance(a, dict) else a for a in args)
        result = method(self, *args, **kwargs)
        for attr in ("inputs", "outs"):
            value = getattr(result, attr, None)
            if isinstance(value, dict):
                setattr(result, attr, to_state(value, keys))
        return result

    return wrapper  # type: ignore[return-value]


class AwsResourceProvider(ResourceProvider):
    """Reads ``aws:region`` and ``aws:profile`` from the stack config, as pulumi-aws does."""

    aws_region: str = ""
    aws_profile: str = ""
    STATE_ONLY: tuple[str, ...] = ()
    """Bookkeeping kept in state as ``__<key>`` (see :func:`hook`)."""

    def configure(self, req: ConfigureRequest) -> None:
        self.aws_region = str(req.config.get("aws:region") or "")
        self.aws_profile = str(req.config.get("aws:profile") or "")

    def planned_update(self, _id: str, olds: JSONDict, news: JSONDict) -> UpdateResult:
        """What ``update`` will return, as far as a preview can know it (the plugin's provider
        previews)."""
        raise NotImplementedError

    @functools.cached_property
    def _client_cache(self) -> ClientCache:
        return ClientCache()

    def clients(self, props: JSONDict, default_region: str = "") -> AwsClients:
        """Clients for one hook call: ``region`` input, else ``default_region``, else config.

        Calls with the same settings share their clients (:class:`aws.ClientCache`): making
        a client per call cost a preview of 50 components most of its time."""
        owner = str(props.get("owner") or "pulumi-dda")
        return self._client_cache.get(
            AwsSettings(
                region=props.get("region") or default_region or self.aws_region,
                profile=self.aws_profile,
                role_arn=props.get("role_arn") or "",
                session_name=f"pulumi-dda-{owner.replace('/', '-')}"[:64],
            )
        )
