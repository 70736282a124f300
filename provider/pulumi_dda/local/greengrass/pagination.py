"""``nextToken``/``maxResults`` paging shared by every list operation.

Tokens are opaque to clients but bound to the listing that issued them, so a token from
one list (or a made-up one) is refused the way the service refuses it, with a
ValidationException, instead of silently restarting the listing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import TypeVar

from .exceptions import ValidationException

T = TypeVar("T")

#: The documented default page size of the Greengrass v2 list operations.
DEFAULT_MAX_RESULTS = 50


def paginate(
    items: Sequence[T], max_results: int | None, next_token: str | None, listing: str
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token for the next page (None on the last page)."""
    start = _decode(next_token, listing) if next_token else 0
    size = max_results or DEFAULT_MAX_RESULTS
    end = start + size
    token = _encode(end, listing) if end < len(items) else None
    return list(items[start:end]), token


def _encode(offset: int, listing: str) -> str:
    raw = json.dumps({"offset": offset, "listing": listing}).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode(token: str, listing: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        offset = data["offset"]
        matches = data["listing"] == listing and isinstance(offset, int) and offset >= 0
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeEncodeError):
        matches = False
    if not matches:
        raise ValidationException("Invalid nextToken", reason="OTHER")
    return int(offset)
