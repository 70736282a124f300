"""A Pulumi stack file (``Pulumi.<stack>.yaml``), edited the way a person would edit it.

A promotion rewrites one config block of the target stack's file and nothing else: the file
is loaded and written back with ruamel.yaml's round-trip mode, so comments, key order, quoting
and block scalars (the CSRs) stay as they are, and the block is merged into the existing one
key by key: a kept key keeps its comments and place, a new key goes after the key it follows
in the source, a key the source lacks is removed; whole comment lines stay above the key they
precede through both. The indentation written is the one Pulumi's own stack files use
(mappings by 2, sequence dashes indented by 2 under their key). After an edit the file is
parsed again and every other config key must be unchanged.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from .errors import DdaError, InputError

CONFIG_KEY = "config"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    # Never fold long values (URIs with a versionId) onto a second line.
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def plain(value: Any) -> Any:
    """ruamel's round-trip values as plain ``dict``/``list``/``str``/``int``/... values."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


class StackFile:
    """One stack file: its text, and its ``config`` mapping as ruamel round-trip data."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.original = text
        try:
            document = _yaml().load(text)
        except YAMLError as exc:
            raise InputError(f"{path}: not a YAML stack file: {exc}") from exc
        if document is None:
            document = CommentedMap()
        if not isinstance(document, CommentedMap):
            raise InputError(f"{path}: a stack file is a mapping with a {CONFIG_KEY!r} key")
        config = document.get(CONFIG_KEY)
        if config is None:
            config = document[CONFIG_KEY] = CommentedMap()
        if not isinstance(config, CommentedMap):
            raise InputError(f"{path}: {CONFIG_KEY!r} must be a mapping")
        self._document = document
        self._config = config

    @classmethod
    def read(cls, path: Path) -> StackFile:
        if not path.is_file():
            raise InputError(f"{path}: no such stack file")
        return cls(path, path.read_text())

    def get(self, key: str) -> Any:
        """A config value as plain data (None when absent)."""
        return plain(self._config.get(key))

    def config(self) -> dict[str, Any]:
        return {str(k): plain(v) for k, v in self._config.items()}

    def set_block(self, key: str, value: Mapping[str, Any]) -> None:
        """Make config ``key`` equal ``value``, keeping what can be kept of the existing block."""
        before = self.config()
        current = self._config.get(key)
        if isinstance(current, CommentedMap):
            _merge(current, value)
        else:
            self._config[key] = _fresh(value)
        after = self.config()
        expected = {**before, key: plain(value)}
        # What the file holds after the edit, read back as a stack file would be read.
        reread = StackFile(self.path, self.text()).config()
        if after != expected or reread != expected:
            # A safeguard: the merge above is meant to make this impossible.
            raise DdaError(f"{self.path}: editing {key} would change other config; not written")

    def text(self) -> str:
        out = io.StringIO()
        _yaml().dump(self._document, out)
        return out.getvalue()

    def diff(self, label: str | None = None) -> str:
        """The edit as a unified diff of the file (empty when nothing changed)."""
        name = label or str(self.path)
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.text().splitlines(keepends=True),
            fromfile=f"{name} (before)",
            tofile=f"{name} (after)",
            n=1,
        )
        return "".join(lines)

    def write(self) -> None:
        self.path.write_text(self.text())


def _fresh(value: Any) -> Any:
    """A plain value as round-trip data (block style, in the given order)."""
    if isinstance(value, Mapping):
        mapping = CommentedMap()
        for k, v in value.items():
            mapping[k] = _fresh(v)
        return mapping
    if isinstance(value, list):
        return CommentedSeq([_fresh(v) for v in value])
    return value


def _merge(target: CommentedMap, source: Mapping[str, Any]) -> None:
    for key in [k for k in target if k not in source]:
        _delete(target, key)
    previous: str | None = None
    for key, value in source.items():
        existing = target.get(key) if key in target else None
        if key in target and isinstance(existing, CommentedMap) and isinstance(value, Mapping):
            _merge(existing, value)
        elif key in target:
            if plain(existing) != plain(value):
                target[key] = _fresh(value)
        else:
            _insert_after(target, previous, key, _fresh(value))
        previous = key


COMMENT_SLOT = 2
"""ruamel keeps the comments after a key's value in slot 2 of ``ca.items[key]``: the rest of
the value's line, then whole comment lines, which are about what comes next in the file."""


def _innermost_last(mapping: CommentedMap, key: Any) -> tuple[CommentedMap, Any]:
    """Where the comment lines after ``key``'s value live: its value's innermost last key."""
    while isinstance(mapping[key], CommentedMap) and len(mapping[key]):
        mapping = mapping[key]
        key = list(mapping)[-1]
    return mapping, key


def _take_following(mapping: CommentedMap, key: Any) -> str:
    """Remove and return the comment lines after ``key``'s value (its own line's comment stays)."""
    holder, last = _innermost_last(mapping, key)
    slot = holder.ca.items.get(last)
    if not slot or slot[COMMENT_SLOT] is None:
        return ""
    own, _, following = slot[COMMENT_SLOT].value.partition("\n")
    if own.strip():
        slot[COMMENT_SLOT].value = own + "\n"
    else:
        slot[COMMENT_SLOT] = None
    return str(following)


def _give_following(mapping: CommentedMap, key: Any, following: str) -> None:
    if not following.strip():
        return
    holder, last = _innermost_last(mapping, key)
    slot = holder.ca.items.setdefault(last, [None] * 4)
    if slot[COMMENT_SLOT] is None:
        slot[COMMENT_SLOT] = CommentToken("\n" + following, CommentMark(0), None)
    else:
        slot[COMMENT_SLOT].value += following


def _delete(mapping: CommentedMap, key: Any) -> None:
    """Delete ``key``; the comment lines after its value go to the value before it (a deleted
    first key takes them along), so they stay above the key they describe."""
    keys = list(mapping)
    following = _take_following(mapping, key)
    del mapping[key]
    mapping.ca.items.pop(key, None)
    index = keys.index(key)
    if index > 0:
        _give_following(mapping, keys[index - 1], following)


def _insert_after(mapping: CommentedMap, previous: Any, key: Any, value: Any) -> None:
    """Insert ``key`` after ``previous`` (first when None), before the comment lines that
    followed ``previous``: they describe the key that came next and still does."""
    if previous is None:
        mapping.insert(0, key, value)
        return
    following = _take_following(mapping, previous)
    mapping.insert(list(mapping).index(previous) + 1, key, value)
    _give_following(mapping, key, following)
