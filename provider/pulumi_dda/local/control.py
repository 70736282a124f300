"""Fault injection, a bandwidth cap and request observation: what tests use to steer and
watch the endpoint.

All are shared by every request thread, hence the locks; all are plain data so that the
admin HTTP path and the in-process Python API expose exactly the same thing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

PACE_PIECE = 64 * 1024


@dataclass
class Fault:
    """Make the next ``count`` calls of ``operation`` fail with ``error``.

    ``service`` narrows the match when two services share an operation name; ``status``
    overrides the HTTP status (default: the one AWS uses for that error code). ``delay``
    holds each call that many seconds first; with an empty ``error`` the call is then served
    normally (latency only, to widen race windows in tests).
    """

    operation: str
    error: str
    count: int = 1
    message: str | None = None
    status: int | None = None
    service: str | None = None
    delay: float = 0.0

    def matches(self, service: str, operation: str) -> bool:
        return self.operation == operation and self.service in (None, service)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        return cls(
            operation=str(data["operation"]),
            error=str(data["error"]),
            count=int(data.get("count", 1)),
            message=data.get("message"),
            status=int(data["status"]) if data.get("status") is not None else None,
            service=data.get("service"),
            delay=float(data.get("delay") or 0.0),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultInjector:
    """Pending faults, consumed in the order they were added."""

    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> None:
        if fault.count < 1:
            raise ValueError("a fault needs count >= 1")
        with self._lock:
            self._faults.append(fault)

    def take(self, service: str, operation: str | None) -> Fault | None:
        """The fault this call must fail with, if any; counts one use of it."""
        if operation is None:
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(service, operation):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(**f.to_dict()) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass
class BandwidthCap:
    """Send each reply, and read each request body, at most ``rate()`` bytes per second (0: as
    fast as possible).

    S3 serves each connection at a limited rate, which is why large objects are read with
    parallel ranged GETs and written with parallel part uploads; with a cap here those
    trade-offs can be measured locally. Requests on one connection are sequential, so pacing
    each reply and each request body paces each connection, both ways. The rate is read per
    request, so a changed setting applies to the next one.
    """

    rate: Callable[[], float]

    def pace(self, body: bytes) -> Iterator[bytes]:
        rate = self.rate()
        if rate <= 0:
            yield body
            return
        wait = _pacer(rate)
        for offset in range(0, len(body), PACE_PIECE):
            piece = body[offset : offset + PACE_PIECE]
            yield piece
            wait(offset + len(piece))

    def read(self, stream: Any, length: int) -> bytes:
        """``length`` bytes of a request body, read at most ``rate()`` bytes per second."""
        rate = self.rate()
        if rate <= 0:
            return bytes(stream.read(length))
        wait, pieces, done = _pacer(rate), [], 0
        while done < length:
            piece = stream.read(min(PACE_PIECE, length - done))
            if not piece:
                break
            pieces.append(piece)
            done += len(piece)
            wait(done)
        return b"".join(pieces)


def _pacer(rate: float) -> Callable[[int], None]:
    """Sleeps until ``done`` bytes are due at ``rate`` bytes per second from now."""
    start = time.monotonic()

    def wait(done: int) -> None:
        ahead = start + done / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)

    return wait


@dataclass(frozen=True)
class RequestRecord:
    """One request that passed through the endpoint.

    ``operation`` is the API operation name (``CreateComponentVersion``, ``GetObject``,
    ``AssumeRole``) when it can be told, else ``"<METHOD> <path>"``.
    """

    service: str
    operation: str
    method: str
    path: str
    status: int
    bytes_in: int
    bytes_out: int
    account_id: str
    region: str
    time: float
    injected_fault: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestRecord:
        return cls(**data)


@dataclass
class RequestLog:
    """Every request in arrival order, recorded before its reply is sent.

    Recording before sending means a client that has its answer always finds the request
    in the log: there is no race between a test's assertion and the server thread.
    """

    _records: list[RequestRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
