"""A compiled-model archive as one forward-only stream of tar bytes, decompressed once.

The compression is told by its magic bytes, as ``tarfile``'s ``r|*`` mode does: gzip, bzip2,
xz, or none. gzip (what SageMaker Neo writes) is inflated by zlib-ng when the ``zlib-ng``
package is installed (several times faster than zlib at inflating and at CRC-32; wheels for
Linux, macOS and Windows), else by the standard library's zlib. Both only ever *read* data or
compute checksums here, so the package bytes do not depend on which one ran (compression for
the ZIP always uses the standard library's zlib).

``tarfile`` reads headers through :meth:`DecompressedStream.read`, ``tell`` and forward
``seek``; member data is taken with :meth:`DecompressedStream.chunks` as views of the
decompressed blocks, so no member byte is copied by Python on its way to the ZIP.

``max_ratio`` bounds the work a small archive can cause: once past :data:`RATIO_FLOOR`
decompressed bytes, the stream must not have produced more than ``max_ratio`` bytes per
compressed byte read so far (a gzip of zeros reaches about 1000, bzip2 far more; real models
stay under 10), so decompression never does more than ``max(RATIO_FLOOR, max_ratio *
compressed size)`` bytes of work, whatever ``max_total_bytes`` allows.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from ._types import Readable
from .errors import ArchiveError

_fast: ModuleType | None
try:
    from zlib_ng import zlib_ng as _fast
except ImportError:  # pragma: no cover - the package is a dependency; absent only by choice
    _fast = None

INFLATE: ModuleType = _fast or zlib
"""zlib-ng when installed, else zlib: for inflating and CRC-32 only."""
crc32: Callable[[Any, int], int] = INFLATE.crc32
BLOCK = 64 * 1024
"""Bytes read, inflated and written at a time. Measured on the project machine (a VM), 1 GiB
through 64 KiB blocks took a third of the system time of 1 MiB blocks: ``readinto`` a reused
1 MiB buffer cost 0.8 s against 0.27 s, and zlib-ng inflating 1 MiB at a time faulted in
~125,000 pages (0.94 s against 0.46 s); the Python-level cost of 16 times the calls is small."""
RATIO_FLOOR = 64 * 1024 * 1024
"""Decompressed bytes below which the compression ratio is not checked (small archives of
text and tar padding compress far better than models)."""

_MAGIC: dict[bytes, Callable[[], Any]] = {
    b"\x1f\x8b": lambda: INFLATE.decompressobj(31),
    b"BZh": bz2.BZ2Decompressor,
    b"\xfd7zXZ\x00": lzma.LZMADecompressor,
}
_DAMAGED: tuple[type[Exception], ...] = (
    zlib.error,
    lzma.LZMAError,
    OSError,  # bz2
    EOFError,
    *((_fast.error,) if _fast is not None else ()),
)


class CorruptStream(Exception):
    """The archive ends early or its compressed data is damaged."""


def _read_at_least(raw: Readable, size: int) -> bytes:
    data = raw.read(BLOCK)
    while data and len(data) < size:
        more = raw.read(BLOCK)
        if not more:
            break
        data += more
    return data


def _decoder_for(head: bytes) -> Callable[[], Any] | None:
    for magic, decoder in _MAGIC.items():
        if head.startswith(magic):
            return decoder
    return None


def _decompressed(raw: Readable, first: bytes, new_decoder: Callable[[], Any]) -> Iterator[bytes]:
    """Decompressed blocks of at most :data:`BLOCK` bytes; concatenated streams are read on."""
    decoder, data = new_decoder(), first
    while True:
        if not data and getattr(decoder, "needs_input", True):
            data = raw.read(BLOCK)
            if not data:
                while out := decoder.decompress(b"", BLOCK):
                    yield out
                if not decoder.eof:
                    raise CorruptStream("compressed data ends early")
                return
        try:
            out = decoder.decompress(data, BLOCK)
        except _DAMAGED as exc:
            raise CorruptStream(f"damaged compressed data ({exc})") from exc
        data = getattr(decoder, "unconsumed_tail", b"")
        if out:
            yield out
        if decoder.eof:
            data = decoder.unused_data + data or raw.read(BLOCK)
            if _decoder_for(data) is not new_decoder:
                return
            decoder = new_decoder()


def _plain(raw: Readable, first: bytes) -> Iterator[bytes]:
    data = first
    while data:
        yield data
        data = raw.read(BLOCK)


class _Counted:
    """``raw``, counting the bytes read from it."""

    def __init__(self, raw: Readable) -> None:
        self._raw = raw
        self.count = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._raw.read(size)
        self.count += len(data)
        return data


class DecompressedStream:
    """The tar bytes of an archive: ``read``/``tell``/forward ``seek`` and zero-copy chunks.

    ``max_ratio`` (0: none) caps decompressed bytes per compressed byte past
    :data:`RATIO_FLOOR`; ``source`` names the archive in that error.
    """

    def __init__(self, raw: Readable, *, source: str = "archive", max_ratio: int = 0) -> None:
        self._raw = _Counted(raw)
        first = _read_at_least(self._raw, 6)
        decoder = _decoder_for(first)
        self._blocks = (
            _plain(self._raw, first)
            if decoder is None
            else _decompressed(self._raw, first, decoder)
        )
        self._max_ratio = max_ratio if decoder is not None else 0
        self._source = source
        self._block = memoryview(b"")
        self._at = 0
        self._pos = 0
        self._produced = 0

    def _fill(self) -> bool:
        for block in self._blocks:
            if block:
                self._block, self._at = memoryview(block), 0
                self._produced += len(block)
                self._check_ratio()
                return True
        return False

    def _check_ratio(self) -> None:
        produced, read = self._produced, self._raw.count
        if self._max_ratio and produced > RATIO_FLOOR and produced > self._max_ratio * read:
            raise ArchiveError(
                f"{self._source}: decompresses to more than {self._max_ratio} times its "
                f"compressed size ({produced} bytes from the first {read}; raise "
                "archive_limits.max_compression_ratio, or --max-compression-ratio, if the model "
                "really is that compressible)"
            )

    def chunks(self, size: int) -> Iterator[memoryview]:
        """Exactly the next ``size`` bytes, as views; :class:`CorruptStream` if fewer remain."""
        while size:
            if self._at == len(self._block) and not self._fill():
                raise CorruptStream("archive ends inside a member")
            end = min(len(self._block), self._at + size)
            view = self._block[self._at : end]
            size -= len(view)
            self._at = end
            self._pos += len(view)
            yield view

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (fewer only at the end); for ``tarfile``'s header reads."""
        parts: list[bytes] = []
        want = size if size >= 0 else 1 << 62
        while want:
            if self._at == len(self._block) and not self._fill():
                break
            end = min(len(self._block), self._at + want)
            parts.append(self._block[self._at : end].tobytes())
            want -= end - self._at
            self._pos += end - self._at
            self._at = end
        return b"".join(parts)

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        """Forward only: ``tarfile`` skips member padding this way."""
        target = offset if whence == 0 else self._pos + offset
        if whence not in (0, 1) or target < self._pos:
            raise CorruptStream("cannot seek backwards in a streamed archive")
        for _ in self.chunks(target - self._pos):
            pass
        return self._pos
