"""Phase 2: the model package, a byte-reproducible ZIP per compilation target.

Layout: ``manifest.json`` at the root and the compiled model's tar members under
``<model_name>/``, paths as in the tar. The package id is the first 12 hex characters of the
ZIP's SHA-256, so the same inputs always give the same id, file name and S3 key, and an
unchanged model gives an empty ``pulumi preview``.

Reproducibility: every entry has the timestamp 1980-01-01 00:00:00, Unix permissions ``0755``
(when any execute bit was set in the tar) or ``0644``, no extra fields but ZIP64 sizes where
needed; ``manifest.json`` comes first, then the model's entries in sorted name order, with
directory entries derived from the paths (so a tar with or without explicit directory members
gives the same ZIP). Nothing of the tar's own metadata (owner, mtime, umask, member order)
reaches the ZIP. Every local header holds the entry's CRC-32 and sizes (no data descriptors),
so streaming unzippers such as Java's ``ZipInputStream`` read every package (see ``_zip.py``).

Streaming: the compiled model is read once as a stream, so an S3 body is never downloaded to a
file first, and the tar is never *extracted*: no member becomes a file or a path on disk. The
package is written as the members arrive (``_assembly.py``): in sorted order, which Neo archives
usually have, every byte is written once, straight into the ZIP; an entry that arrives out of
order moves the (usually small) entries after it to an unnamed spool, and they are appended
again at the end. Past the first 256 KiB of each member (the compression sample), member bytes
go from the decompressor to the file as views, not copied by Python; memory stays flat (64 KiB
blocks) whatever the model size. The SHA-256 is taken over the finished file.

Compression is chosen per member by measurement: the first 256 KiB are deflated and the member
is stored deflated only if that sample shrinks below 90 %. Compiled model binaries (DLR ``.so``,
``.params`` weights) barely compress, so they are stored, which costs no CPU; text members
(``.json``, ``.meta``) are deflated. The rule depends only on content, so it stays reproducible.

Hostile archives are rejected as soon as the offending member's header is read, before any of
its bytes are written: absolute paths, ``..`` components, links, devices and FIFOs, sparse
members, non-UTF-8 names, duplicate names, a name that is both a file and a directory, a
package path over 65,535 bytes (the ZIP format's limit), and archives over the caps of
:class:`ArchiveLimits` (tar extension headers included, before ``tarfile`` reads them:
``_tarread.py``). The package is written under a temporary
name (``.partial-*.zip``, removed on any failure) and renamed into place only when the whole
archive has been read and checked, so a failure leaves no file behind.

Not a compiled model for its target: a trained model's members are refused, and, when the
target is given, so is a ``compiled.meta`` (Neo's, at the archive's root, read only when at
most 64 KiB) whose ``Requirements`` name a Neo ``TargetDevice`` or ``TargetPlatform`` known
not to be the target's (``recipe.TARGETS``). A device or platform the table does not know, or
an archive without ``compiled.meta``, is packaged.
"""

from __future__ import annotations

import base64
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import _zip
from ._assembly import Assembler, deflate
from ._decompress import CorruptStream, DecompressedStream
from ._tarread import ArchiveLimits, TarReader, shown
from ._types import JSONDict, Progress, Readable, no_progress
from .errors import ArchiveError
from .manifest import TRAINED_MODEL_MEMBERS, manifest_bytes
from .recipe import neo_mismatch

SAMPLE = 256 * 1024
COMPRESS_IF_BELOW = 0.9
PACKAGE_SUFFIX = "_greengrass_model_component.zip"
MANIFEST_NAME = "manifest.json"
NEO_META_NAME = "compiled.meta"
NEO_META_MAX_BYTES = 64 * 1024
"""A ``compiled.meta`` over this size is packaged but not read (Neo's are a few hundred bytes)."""
FILE_MODE, EXECUTABLE_MODE, DIRECTORY_MODE = 0o100644, 0o100755, 0o40755


__all__ = [
    "COMPRESS_IF_BELOW",
    "DIRECTORY_MODE",
    "EXECUTABLE_MODE",
    "FILE_MODE",
    "MANIFEST_NAME",
    "PACKAGE_SUFFIX",
    "SAMPLE",
    "ArchiveLimits",
    "Package",
    "build_package",
    "package_file_name",
    "package_s3_key",
]


@dataclass(frozen=True)
class Package:
    """A written model package."""

    path: Path
    sha256: str
    size: int

    @property
    def package_id(self) -> str:
        """12 lowercase hex characters: the DDA package id, derived from the content."""
        return self.sha256[:12]

    @property
    def file_name(self) -> str:
        return package_file_name(self.package_id)

    @property
    def digest(self) -> str:
        """The Greengrass artifact digest: standard padded base64 of the SHA-256."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()

    def s3_key(self, prefix: str = "") -> str:
        return package_s3_key(self.package_id, prefix)


def package_file_name(package_id: str) -> str:
    return f"{package_id}{PACKAGE_SUFFIX}"


def package_s3_key(package_id: str, prefix: str = "") -> str:
    """``<prefix>model_artifacts/model-<id>/<id>_greengrass_model_component.zip``."""
    return f"{prefix}model_artifacts/model-{package_id}/{package_file_name(package_id)}"


def _safe_name(raw: str, source: str) -> str:
    name = raw[2:] if raw.startswith("./") else raw
    path = PurePosixPath(name)
    if not name or name.startswith("/") or path.is_absolute():
        raise ArchiveError(f"{source}: member {raw!r} has an absolute path")
    if "\\" in name or any(part in {"..", ""} for part in name.rstrip("/").split("/")):
        raise ArchiveError(f"{source}: member {raw!r} has a '..' or empty path component")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ArchiveError(f"{source}: member {raw!r} has a name that is not UTF-8") from None
    return str(path)


def _entry_name(model_name: str, name: str, is_dir: bool, source: str) -> str:
    """The member's path in the package; refused when over the ZIP format's 16-bit name size."""
    entry = f"{model_name}/{name}" + ("/" if is_dir else "")
    size = len(entry.encode("utf-8"))
    if size > _zip.MAX_NAME_BYTES:
        raise ArchiveError(
            f"{source}: member {shown(name)} would be a {size}-byte path in the package, over "
            f"the {_zip.MAX_NAME_BYTES}-byte limit of a ZIP entry name"
        )
    return entry


def _check_type(member: tarfile.TarInfo, source: str) -> None:
    if member.issym() or member.islnk():
        raise ArchiveError(f"{source}: member {member.name!r} is a link; links are not allowed")
    if not (member.isfile() or member.isdir()):
        raise ArchiveError(
            f"{source}: member {member.name!r} is a device, FIFO or other special file"
        )
    if member.sparse is not None:
        raise ArchiveError(f"{source}: member {member.name!r} is a sparse file")


def _add_directories(asm: Assembler, path: PurePosixPath) -> None:
    """Directory entries for ``path`` and above it that have none yet, outermost first."""
    missing: list[str] = []
    while str(path) != "." and f"{path}/" not in asm.records:
        missing.append(f"{path}/")
        path = path.parent
    for name in reversed(missing):
        asm.add(_zip.Entry(name, DIRECTORY_MODE), b"")


def _add_file(
    asm: Assembler,
    stream: DecompressedStream,
    name: str,
    member: tarfile.TarInfo,
    inspect: Callable[[bytes], None] | None = None,
) -> None:
    """Add one member; ``inspect`` sees its first bytes (the whole of a small member) first."""
    _add_directories(asm, PurePosixPath(name).parent)
    sample = stream.read(min(SAMPLE, member.size))
    if len(sample) < min(SAMPLE, member.size):
        raise CorruptStream("archive ends inside a member")
    if inspect is not None:
        inspect(sample)
    compress = bool(sample) and len(deflate(sample)) < COMPRESS_IF_BELOW * len(sample)
    method = _zip.DEFLATED if compress else _zip.STORED
    mode = EXECUTABLE_MODE if member.mode & 0o111 else FILE_MODE
    entry = _zip.Entry.for_size(name, mode, method, member.size)
    asm.add(entry, sample, stream.chunks(member.size - len(sample)))


@dataclass
class _Tree:
    """The names seen so far, to reject duplicates and file/directory clashes on arrival."""

    files: set[str]
    explicit_dirs: set[str]
    dirs: set[str]

    def add(self, name: str, is_dir: bool, source: str) -> None:
        if name in self.files or name in self.explicit_dirs:
            raise ArchiveError(f"{source}: duplicate member name {name!r}")
        parents = {str(p) for p in PurePosixPath(name).parents}
        clash = (parents & self.files) | (set() if is_dir else {name} & self.dirs)
        if clash:
            raise ArchiveError(f"{source}: {sorted(clash)[0]!r} is both a file and a directory")
        if is_dir:
            self.explicit_dirs.add(name)
            self.dirs.add(name)
        else:
            self.files.add(name)
        self.dirs.update(parents)


def _check_neo_target(data: bytes, target: str, source: str) -> None:
    """Refuse a ``compiled.meta`` whose ``Requirements`` name a device or platform known not to
    be ``target`` (the table is ``recipe.TARGETS``). Unreadable JSON or unknown values pass:
    only a known mismatch is refused."""
    try:
        meta = json.loads(data)
    except ValueError:
        return
    declared = neo_mismatch(target, meta.get("Requirements") if isinstance(meta, dict) else None)
    if declared is not None:
        raise ArchiveError(
            f"{source}: {NEO_META_NAME} says it was compiled for {declared}, not for target "
            f"{target}: give the compilation job's output for {target}"
        )


def _read_members(
    reader: TarReader,
    asm: Assembler,
    model_name: str,
    source: str,
    progress: Progress,
    target: str | None = None,
) -> None:
    """Check each member as its header arrives, before any of its bytes are written."""
    tree = _Tree(set(), set(), set())
    files = 0
    for member in reader:
        _check_type(member, source)
        name = _safe_name(member.name, source)
        if name in TRAINED_MODEL_MEMBERS:
            raise ArchiveError(
                f"{source}: member {name!r} is a trained model's (a SageMaker training job's "
                "output), not a Neo-compiled model's: give the compilation job's output for this "
                "target"
            )
        entry = _entry_name(model_name, name, member.isdir(), source)
        tree.add(name, member.isdir(), source)
        if member.isdir():
            _add_directories(asm, PurePosixPath(entry))
            continue
        inspect = None
        if target is not None and name == NEO_META_NAME and member.size <= NEO_META_MAX_BYTES:
            inspect = lambda data: _check_neo_target(data, target, source)  # noqa: E731
        _add_file(asm, reader.stream, entry, member, inspect)
        files += 1
        progress(f"read {name} ({member.size} bytes)")
    if not files:
        raise ArchiveError(
            f"{source}: the archive holds no file, so there is no compiled model to package"
        )
    _add_directories(asm, PurePosixPath(model_name))


def build_package(
    compiled: Readable,
    manifest: JSONDict,
    model_name: str,
    out_dir: Path,
    *,
    source: str = "compiled model",
    limits: ArchiveLimits | None = None,
    progress: Progress = no_progress,
    target: str | None = None,
) -> Package:
    """Write ``<out_dir>/<id>_greengrass_model_component.zip`` from a compiled-model tar stream.

    With ``target``, a ``compiled.meta`` at the archive's root that names another Neo device or
    platform than ``target``'s is refused (:class:`ArchiveError`, no file left behind)."""
    limits = limits or ArchiveLimits()
    out_dir.mkdir(parents=True, exist_ok=True)
    asm = Assembler(out_dir, first=MANIFEST_NAME)
    try:
        data = manifest_bytes(manifest)
        asm.add(_zip.Entry(MANIFEST_NAME, FILE_MODE, _zip.DEFLATED, size=len(data)), data)
        try:
            reader = TarReader(compiled, source, limits)
            _read_members(reader, asm, model_name, source, progress, target)
        except (tarfile.TarError, CorruptStream, EOFError) as exc:
            raise ArchiveError(f"{source}: not a readable .tar.gz archive ({exc})") from exc
        path, sha256, size = asm.finish(lambda digest: package_file_name(digest[:12]))
    finally:
        asm.discard()
    package = Package(path=path, sha256=sha256, size=size)
    progress(f"packaged {package.path.name} ({package.size} bytes)")
    return package
