"""Type aliases shared across modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any, Protocol, cast

JSONDict = dict[str, Any]
"""A JSON object as parsed by :mod:`json` (keys keep their order)."""

Progress = Callable[[str], None]
"""Receives one human-readable progress line (shown by the CLI and in ``pulumi up`` output)."""


def no_progress(_message: str) -> None:
    """A :data:`Progress` sink that drops every message."""


class Readable(Protocol):
    """A binary stream that can be read: a file, an S3 body, a wrapper of either."""

    def read(self, size: int = -1, /) -> bytes: ...


def as_binary_io(stream: Readable) -> IO[bytes]:
    """``tarfile``'s stream modes only call ``read``; its stubs ask for a whole file object."""
    return cast(IO[bytes], stream)
