"""Phase 2: the model package, a byte-reproducible ZIP per compilation target.

Layout: ``manifest.json`` at the root and the compiled model's tar members under
``<model_name>/``, paths as in the tar. The package id is the first 12 hex characters of the
ZIP's SHA-256, so the same inputs always give the same id, file name and S3 key, and an
unchanged model gives an empty ``pulumi preview``.

Reproducibility: every entry has the timestamp 1980-01-01 00:00:00, Unix permissions ``0755``
(when any execute bit was set in the tar) or ``0644``, no extra fields; ``manifest.json`` comes
first, then the model's entries in sorted name order, with directory entries derived from the
paths (so a tar with or without explicit directory members gives the same ZIP). Nothing of the
tar's own metadata (owner, mtime, umask, member order) reaches the ZIP.

Streaming: the compiled model is read once as a stream (``tarfile`` mode ``r|*``), so an S3 body
is never downloaded to a file first. The tar is never *extracted*: no member becomes a file or a
path on disk. Because a tar can list members in any order while the ZIP must list them sorted,
member bytes are spooled into one unnamed temporary file and copied from there, in sorted order,
into the ZIP; memory stays flat at one 1 MiB buffer whatever the model size. The SHA-256 is
computed while the ZIP is written (ZIP entries use data descriptors so the writer never seeks
back).

Compression is chosen per member by measurement: the first 256 KiB are deflated and the member
is stored deflated only if that sample shrinks below 90 %. Compiled model binaries (DLR ``.so``,
``.params`` weights) barely compress, so they are stored, which costs no CPU; text members
(``.json``, ``.meta``) are deflated. The rule depends only on content, so it stays reproducible.

Hostile archives are rejected before anything is written to the output directory: absolute
paths, ``..`` components, links, devices and FIFOs, duplicate names, and archives over the caps
of :class:`ArchiveLimits`. The ZIP is written under a temporary name and renamed into place
only when complete, so a failure leaves no partial file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from ._types import JSONDict, Progress, Readable, as_binary_io, no_progress
from .errors import ArchiveError
from .manifest import manifest_bytes

CHUNK = 1024 * 1024
SAMPLE = 256 * 1024
COMPRESS_IF_BELOW = 0.9
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
PACKAGE_SUFFIX = "_greengrass_model_component.zip"


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on a compiled-model archive. Defaults fit real Neo outputs with a wide margin."""

    max_total_bytes: int = 8 * 1024**3
    max_members: int = 10_000


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


@dataclass(frozen=True)
class _Member:
    name: str
    offset: int
    size: int
    executable: bool


class _HashingWriter:
    """A write-only, non-seekable file that hashes what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._pos = 0
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._raw.write(data)
        self.sha256.update(data)
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        self._raw.flush()


def _safe_name(raw: str, source: str) -> str:
    name = raw[2:] if raw.startswith("./") else raw
    path = PurePosixPath(name)
    if not name or name.startswith("/") or path.is_absolute():
        raise ArchiveError(f"{source}: member {raw!r} has an absolute path")
    if "\\" in name or any(part in {"..", ""} for part in name.rstrip("/").split("/")):
        raise ArchiveError(f"{source}: member {raw!r} has a '..' or empty path component")
    return str(path)


def _check_type(member: tarfile.TarInfo, source: str) -> None:
    if member.issym() or member.islnk():
        raise ArchiveError(f"{source}: member {member.name!r} is a link; links are not allowed")
    if not (member.isfile() or member.isdir()):
        raise ArchiveError(
            f"{source}: member {member.name!r} is a device, FIFO or other special file"
        )


def _spool_members(
    stream: Readable, spool: IO[bytes], source: str, limits: ArchiveLimits, progress: Progress
) -> tuple[list[_Member], set[str]]:
    files: dict[str, _Member] = {}
    dirs: set[str] = set()
    total = 0
    count = 0
    try:
        with tarfile.open(fileobj=as_binary_io(stream), mode="r|*", bufsize=CHUNK) as tar:
            for member in tar:
                count += 1
                if count > limits.max_members:
                    raise ArchiveError(
                        f"{source}: more than {limits.max_members} members "
                        "(raise ArchiveLimits.max_members if the model really is that large)"
                    )
                _check_type(member, source)
                name = _safe_name(member.name, source)
                if name in files or name in dirs:
                    raise ArchiveError(f"{source}: duplicate member name {name!r}")
                if member.isdir():
                    dirs.add(name)
                    continue
                total += member.size
                if total > limits.max_total_bytes:
                    raise ArchiveError(
                        f"{source}: uncompressed size over the {limits.max_total_bytes}-byte cap "
                        "(raise ArchiveLimits.max_total_bytes if the model really is that large)"
                    )
                files[name] = _Member(name, spool.tell(), member.size, bool(member.mode & 0o111))
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - isfile() was checked
                    raise ArchiveError(f"{source}: member {name!r} cannot be read")
                shutil.copyfileobj(handle, spool, CHUNK)
                progress(f"read {name} ({member.size} bytes)")
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise ArchiveError(f"{source}: not a readable .tar.gz archive ({exc})") from exc
    parents = {str(p) for name in files for p in PurePosixPath(name).parents}
    clash = set(files) & (dirs | parents)
    if clash:
        raise ArchiveError(f"{source}: {sorted(clash)[0]!r} is both a file and a directory")
    return list(files.values()), dirs


def _all_dirs(model_name: str, members: list[_Member], dirs: set[str]) -> set[str]:
    result = {model_name} | {f"{model_name}/{d}" for d in dirs}
    for member in members:
        parent = PurePosixPath(f"{model_name}/{member.name}").parent
        while str(parent) != ".":
            result.add(str(parent))
            parent = parent.parent
    return result


def _zipinfo(name: str, mode: int, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.create_system = 3
    info.external_attr = mode << 16
    info.compress_type = compress
    return info


def _compression_for(spool: IO[bytes], member: _Member) -> int:
    spool.seek(member.offset)
    sample = spool.read(min(SAMPLE, member.size))
    if sample and len(zlib.compress(sample, 6)) < COMPRESS_IF_BELOW * len(sample):
        return zipfile.ZIP_DEFLATED
    return zipfile.ZIP_STORED


def _write_member(zf: zipfile.ZipFile, spool: IO[bytes], member: _Member, arcname: str) -> None:
    mode = 0o100755 if member.executable else 0o100644
    info = _zipinfo(arcname, mode, _compression_for(spool, member))
    info.file_size = member.size
    spool.seek(member.offset)
    remaining = member.size
    with zf.open(info, "w") as out:
        while remaining:
            chunk = spool.read(min(CHUNK, remaining))
            if not chunk:  # pragma: no cover - the spool holds exactly these bytes
                raise ArchiveError(f"spool ended early in {arcname}")
            out.write(chunk)
            remaining -= len(chunk)


def build_package(
    compiled: Readable,
    manifest: JSONDict,
    model_name: str,
    out_dir: Path,
    *,
    source: str = "compiled model",
    limits: ArchiveLimits | None = None,
    progress: Progress = no_progress,
) -> Package:
    """Write ``<out_dir>/<id>_greengrass_model_component.zip`` from a compiled-model tar stream."""
    limits = limits or ArchiveLimits()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=out_dir) as spool:
        members, dirs = _spool_members(compiled, spool, source, limits, progress)
        entries: dict[str, _Member | None] = {f"{model_name}/{m.name}": m for m in members}
        entries.update({f"{d}/": None for d in _all_dirs(model_name, members, dirs)})
        fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=".partial-", suffix=".zip")
        try:
            with os.fdopen(fd, "wb") as raw:
                writer = _HashingWriter(raw)
                with zipfile.ZipFile(writer, "w") as zf:  # type: ignore[call-overload]
                    zf.writestr(
                        _zipinfo("manifest.json", 0o100644, zipfile.ZIP_DEFLATED),
                        manifest_bytes(manifest),
                    )
                    for arcname in sorted(entries):
                        member = entries[arcname]
                        if member is None:
                            zf.writestr(_zipinfo(arcname, 0o40755, zipfile.ZIP_STORED), b"")
                        else:
                            _write_member(zf, spool, member, arcname)
                size = writer.tell()
                sha256 = writer.sha256.hexdigest()
            final = out_dir / package_file_name(sha256[:12])
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    progress(f"packaged {final.name} ({size} bytes)")
    return Package(path=final, sha256=sha256, size=size)
