"""The one way pulumi-dda fans per-target work out to threads.

Per-target work is I/O (S3, Greengrass), hashing and zlib, which release the GIL, so threads
are enough. Every task runs to its end before the first failure (in the mapping's order) is
raised, so a caller's cleanup sees everything the tasks did. Each task runs in a copy of the
caller's context variables (the provider plugin keeps the URN of the resource in one).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")

MAX_WORKERS = 4


def fan_out(items: Mapping[K, V], work: Callable[[K, V], R]) -> dict[K, R]:
    """``{key: work(key, value)}``, run in parallel; raises the first failure after all ended."""
    if not items:
        return {}
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(items))) as pool:
        futures = {
            key: pool.submit(contextvars.copy_context().run, work, key, value)
            for key, value in items.items()
        }
    for future in futures.values():
        if (error := future.exception()) is not None:
            raise error
    return {key: future.result() for key, future in futures.items()}
