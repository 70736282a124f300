"""The one way pulumi-dda fans per-target work out to threads.

Per-target work is I/O (S3, Greengrass) and packaging, whose bytes pass through zlib-ng,
SHA-256, CRC-32 and file reads and writes, all of which release the GIL, with no copy made by
Python (see ``package.py``); so threads use every core, and CPU-bound fan-outs take one worker
per core (:func:`cores`). Every task runs to its end before a failure is raised, so a caller's
cleanup sees everything the tasks did: the first (in the mapping's order), or when several
tasks failed with expected errors, one :class:`~pulumi_dda.errors.DdaError` with a line each.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .errors import DdaError

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")

MAX_WORKERS = 4


def cores() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - macOS and Windows


def fan_out(
    items: Mapping[K, V], work: Callable[[K, V], R], *, max_workers: int = MAX_WORKERS
) -> dict[K, R]:
    """``{key: work(key, value)}``, run in parallel; raises the first failure after all ended."""
    if not items:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items)))) as pool:
        # Each task runs in a copy of the caller's context (progress lines know their resource).
        futures = {
            key: pool.submit(contextvars.copy_context().run, work, key, value)
            for key, value in items.items()
        }
    errors = [e for f in futures.values() if (e := f.exception()) is not None]
    if len(errors) > 1 and all(isinstance(e, DdaError) for e in errors):
        raise DdaError("\n".join(str(e) for e in errors)) from errors[0]
    if errors:
        raise errors[0]
    return {key: future.result() for key, future in futures.items()}
