"""Operation plumbing: one lock per backend, the fleet brought up to date before every
operation, and the fingerprint that tells a retried request from a different one.

The server is threaded: each operation runs under its backend's lock, so it is atomic. Every
operation first plays the simulated fleet forward to now (``advance``), so whatever it reads
or changes sees the devices as they are at this moment.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class Lockable(Protocol):
    lock: threading.RLock

    def advance(self) -> None: ...


S = TypeVar("S", bound=Lockable)


def locked(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Run ``method`` under the backend's lock, after the fleet caught up with the clock."""

    @functools.wraps(method)
    def wrapper(backend: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with backend.lock:
            backend.advance()
            return method(backend, *args, **kwargs)

    return wrapper


def fingerprint(**members: Any) -> str:
    """Canonical form of a request, to tell a retry from a different request."""

    def encode(value: Any) -> Any:
        return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)

    return json.dumps(members, sort_keys=True, default=encode)
