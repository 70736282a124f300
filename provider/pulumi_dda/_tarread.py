"""The members of a tar stream, each checked against the caps before ``tarfile`` reads what
the cap is about. Both archive readers (the trained model at check, the compiled models at
packaging) go through :class:`TarReader`.

``tarfile`` reads more than 512-byte headers to give one member: the data of PAX extended and
global headers (``x``, ``g``), GNU long names and long link names (``L``, ``K``), GNU sparse
maps. It reads each of them into memory whole, and parses PAX data with regular expressions
that take quadratic time on long digit runs on Python before 3.11.10 / 3.12.6
(CVE-2024-6232). So the reader:

- sees every header block as ``tarfile`` parses it (a :class:`tarfile.TarInfo` subclass whose
  ``frombuf`` reports to the reader) and refuses, from the header's size field and *before*
  ``tarfile`` reads the extension data: more than :data:`MAX_EXTENSION_BYTES` of extension data
  for one member, more than :data:`MAX_HEADER_BLOCKS` header blocks for one member (chained
  extension headers are parsed recursively), global PAX data over the same cap for the whole
  archive, and extension data that takes the archive over ``max_total_bytes``;
- bounds everything ``tarfile`` reads while parsing one member's headers (sparse maps
  included) by wrapping the stream it reads, and checks each PAX header's records before
  ``tarfile`` parses them: framed as POSIX says (``<length> <keyword>=<value>\\n``, as the
  fixed CPython parser requires) and without a digit run over :data:`MAX_DIGIT_RUN`;
- refuses a member name over :data:`MAX_NAME_BYTES`, and counts members and sizes against
  :class:`ArchiveLimits` as each member arrives;
- keeps no member after handing it out (``TarFile.members`` would hold every one, with its
  PAX headers).

The decompression itself is capped by ``max_compression_ratio`` (:mod:`._decompress`).
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Self, cast

from . import _zip
from ._decompress import CorruptStream, DecompressedStream
from ._types import Readable
from .errors import ArchiveError

MAX_EXTENSION_BYTES = 1024 * 1024
"""Extension data (PAX, GNU long names, sparse maps) ``tarfile`` may read for one member, and
PAX global data for a whole archive. Real archives use a few hundred bytes per member."""
MAX_HEADER_BLOCKS = 8
"""Header blocks for one member: its own and at most 7 extension headers before it."""
MAX_NAME_BYTES = _zip.MAX_NAME_BYTES
"""The longest member name (UTF-8 bytes): the longest name a ZIP entry can have."""
MAX_DIGIT_RUN = 32
"""Longest run of digits in PAX data: longer ones make CPython's PAX regular expressions
quadratic (numbers in real headers have at most 20 digits)."""
_HEADER_READ_BUDGET = MAX_EXTENSION_BYTES + 2 * MAX_HEADER_BLOCKS * tarfile.BLOCKSIZE + 1
"""Bytes ``tarfile`` may read to give one member: the extension data, each header block and
each extension's padding to a block, and the one byte it reads to check the previous member."""
_PAX_TYPES = {tarfile.XHDTYPE: "PAX extended header", tarfile.XGLTYPE: "PAX global header",
              tarfile.SOLARIS_XHDTYPE: "Solaris extended header"}  # fmt: skip
_GNU_TYPES = {tarfile.GNUTYPE_LONGNAME: "GNU long name", tarfile.GNUTYPE_LONGLINK: "GNU long link"}
_PAX_LENGTH = re.compile(rb"([0-9]{1,20}) ")
_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % (MAX_DIGIT_RUN + 1))
DEFAULT_MAX_COMPRESSION_RATIO = 100


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on every archive read. Defaults fit real SageMaker and Neo outputs by far."""

    max_total_bytes: int = 8 * 1024**3
    """Uncompressed member sizes plus extension-header data."""
    max_members: int = 10_000
    max_compression_ratio: int = DEFAULT_MAX_COMPRESSION_RATIO
    """Decompressed bytes per compressed byte read, once past ``RATIO_FLOOR`` (64 MiB)."""


def shown(name: str) -> str:
    """A member name for a one-line message: at most 60 characters of it."""
    return repr(name if len(name) <= 60 else name[:60] + "...")


def pax_problem(data: bytes) -> str:
    """Why PAX header data is malformed, or ''. The framing follows CPython's fixed parser."""
    if _LONG_DIGITS.search(data):
        return f"a run of more than {MAX_DIGIT_RUN} digits"
    pos = 0
    while pos < len(data) and data[pos] != 0:
        match = _PAX_LENGTH.match(data, pos)
        length = int(match.group(1)) if match else 0
        if length < 5 or pos + length > len(data):
            return f"bad record length at byte {pos}"
        keyword, equals, _value = data[match.end() : pos + length - 1].partition(b"=")  # type: ignore[union-attr]
        if not keyword or not equals or data[pos + length - 1] != 0x0A:
            return f"bad record framing at byte {pos}"
        pos += length
    return ""


class _HeaderReads:
    """The stream as ``tarfile`` sees it: what it reads is charged to the current member's
    header budget, and PAX data is checked before ``tarfile`` gets it."""

    def __init__(self, stream: DecompressedStream, reader: TarReader) -> None:
        self._stream = stream
        self._reader = reader
        self.budget = 0
        self.pax_size: int | None = None

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self.budget:
            raise ArchiveError(
                f"{self._reader.source}: the headers of member #{self._reader.count + 1} "
                f"(extended headers, sparse map) are over the {_HEADER_READ_BUDGET}-byte cap"
            )
        self.budget -= size
        data = self._stream.read(size)
        if self.pax_size is not None:
            problem = pax_problem(data[: self.pax_size])
            self.pax_size = None
            if problem:
                raise ArchiveError(
                    f"{self._reader.source}: malformed PAX header before member "
                    f"#{self._reader.count + 1} ({problem})"
                )
        return data

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._stream.seek(offset, whence)


class TarReader:
    """The members of a (compressed) tar stream, checked; read their data from :attr:`stream`
    right after each is handed out (``stream.read``/``stream.chunks``)."""

    def __init__(self, raw: Readable, source: str, limits: ArchiveLimits) -> None:
        self.source = source
        self.limits = limits
        self.stream = DecompressedStream(raw, source=source, max_ratio=limits.max_compression_ratio)
        self._reads = _HeaderReads(self.stream, self)
        self._tar: tarfile.TarFile | None = None
        self.count = 0
        self.total = 0
        self._blocks = 0
        self._extension = 0
        self._global = 0

    def __iter__(self) -> Iterator[tarfile.TarInfo]:
        while (member := self.next()) is not None:
            yield member

    def next(self) -> tarfile.TarInfo | None:
        """The next member, checked; ``None`` at the end of the archive."""
        self._blocks = self._extension = 0
        self._reads.budget = _HEADER_READ_BUDGET
        try:
            if self._tar is None:  # reads the first member's headers
                self._tar = tarfile.TarFile(
                    fileobj=cast(IO[bytes], self._reads), mode="r", tarinfo=_checked_info(self)
                )
            member = self._tar.next()
        except (ValueError, IndexError) as exc:  # tarfile parsing a malformed header or map
            raise CorruptStream(f"malformed header ({exc})") from exc
        finally:
            self._reads.budget = 0
        if member is None:
            return None
        cast(Any, self._tar).members.clear()  # every member so far: not in typeshed's stubs
        self._check(member)
        return member

    def _check(self, member: tarfile.TarInfo) -> None:
        self.count += 1
        if member.size < 0:
            raise ArchiveError(f"{self.source}: member {shown(member.name)} has a negative size")
        if self.count > self.limits.max_members:
            raise ArchiveError(
                f"{self.source}: more than {self.limits.max_members} members (raise "
                "archive_limits.max_members, or --max-members, if the model really is that large)"
            )
        size = len(member.name.encode("utf-8", "surrogateescape"))
        if size > MAX_NAME_BYTES:
            raise ArchiveError(
                f"{self.source}: member {shown(member.name)} has a {size}-byte name, over the "
                f"{MAX_NAME_BYTES}-byte cap on member names (the longest name a ZIP entry can have)"
            )
        self._add(member.size)

    def _add(self, size: int) -> None:
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise ArchiveError(
                f"{self.source}: uncompressed size over the {self.limits.max_total_bytes}-byte "
                "cap (raise archive_limits.max_total_bytes, or --max-total-bytes, if the model "
                "really is that large)"
            )

    def header(self, info: tarfile.TarInfo) -> None:
        """One header block as ``tarfile`` parses it, before it reads any extension data."""
        self._blocks += 1
        where = f"{self.source}: member #{self.count + 1}"
        if self._blocks > MAX_HEADER_BLOCKS:
            raise ArchiveError(
                f"{where} has more than {MAX_HEADER_BLOCKS - 1} extended headers before it"
            )
        if info.size < 0:
            raise ArchiveError(f"{where} has a header with a negative size")
        kind = _PAX_TYPES.get(info.type) or _GNU_TYPES.get(info.type)
        if kind is None:
            return
        self._extension += info.size
        self._global += info.size if info.type == tarfile.XGLTYPE else 0
        if max(self._extension, self._global) > MAX_EXTENSION_BYTES:
            scope = "the archive's" if self._global > MAX_EXTENSION_BYTES else "one member's"
            raise ArchiveError(
                f"{where}: a {kind} of {info.size} bytes takes {scope} extended header data "
                f"over the {MAX_EXTENSION_BYTES}-byte cap (real archives need a few hundred bytes)"
            )
        self._add(info.size)
        if info.type in _PAX_TYPES:
            self._reads.pax_size = info.size


def _checked_info(reader: TarReader) -> type[tarfile.TarInfo]:
    """A ``TarInfo`` class whose header parsing reports each header block to ``reader``."""

    class CheckedInfo(tarfile.TarInfo):
        @classmethod
        def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> Self:
            info = super().frombuf(buf, encoding, errors)
            reader.header(info)
            return info

    return CheckedInfo
