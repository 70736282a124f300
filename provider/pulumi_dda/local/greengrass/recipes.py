"""Component recipes as the service sees them: parse, check, read artifacts, render.

Recipes arrive as bytes (JSON or YAML). What the real service does with them that a client
depends on: an unparsable recipe is refused with a misleading AccessDeniedException; names
and versions are limited; each S3 artifact gets a ``Digest`` the service computes itself;
``GetComponent`` returns the stored recipe in the format asked for. Rules that no source
settled (marked *unconfirmed*) follow the stricter reading, as the API notes ask.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import yaml

from .exceptions import AccessDeniedException, ValidationException

Recipe = dict[str, Any]

RECIPE_FORMAT_VERSION = "2020-01-25"
#: Unconfirmed: the Greengrass Development Kit enforces this size; the service may not.
MAX_RECIPE_BYTES = 16_000
RESERVED_PREFIX = "aws.greengrass"
#: Unconfirmed character set, taken from the Development Kit's recipe schema.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9\-_.]+$")
SEMVER_PATTERN = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
DIGEST_ALGORITHM = "SHA-256"


def parse_recipe(blob: bytes) -> Recipe:
    """JSON or YAML mapping; anything else gets the real service's confusing denial."""
    if len(blob) > MAX_RECIPE_BYTES:
        raise ValidationException(
            f"Invalid Input: recipe is {len(blob)} bytes, more than {MAX_RECIPE_BYTES}",
            reason="OTHER",
        )
    try:
        text = blob.decode("utf-8")
        recipe = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError):
        recipe = None
    if not isinstance(recipe, dict):
        raise AccessDeniedException("User is not authorized to perform: null")
    return recipe


def check_recipe(recipe: Recipe) -> tuple[str, str]:
    """Check the fields the service requires; return the component name and version."""
    fmt = recipe.get("RecipeFormatVersion")
    if str(fmt) != RECIPE_FORMAT_VERSION:
        raise ValidationException(
            f"Invalid Input: RecipeFormatVersion must be {RECIPE_FORMAT_VERSION}, got {fmt!r}",
            reason="OTHER",
        )
    name = recipe.get("ComponentName")
    version = recipe.get("ComponentVersion")
    if not isinstance(name, str) or not isinstance(version, str):
        raise ValidationException(
            "Invalid Input: ComponentName and ComponentVersion are required strings",
            reason="OTHER",
        )
    check_name(name)
    check_version(version)
    return name, version


def check_name(name: str) -> None:
    if not 1 <= len(name) <= 128:
        raise ValidationException(
            f"Invalid Input: ComponentName must be 1 to 128 characters, got {len(name)}",
            reason="OTHER",
        )
    if name.startswith(RESERVED_PREFIX):
        raise ValidationException(
            f"Invalid Input: ComponentName {name} uses the reserved prefix {RESERVED_PREFIX}",
            reason="OTHER",
        )
    if not NAME_PATTERN.match(name):
        raise ValidationException(
            f"Invalid Input: ComponentName {name} must match {NAME_PATTERN.pattern}",
            reason="OTHER",
        )


def check_version(version: str) -> None:
    if not 1 <= len(version) <= 64 or not SEMVER_PATTERN.match(version):
        raise ValidationException(
            f"Invalid Input: ComponentVersion {version} is not a semantic version "
            "major.minor.patch of at most 64 characters",
            reason="OTHER",
        )


def semver_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Sort key of semantic version precedence (a pre-release sorts before its release)."""
    match = SEMVER_PATTERN.match(version)
    if match is None:
        return (0, 0, 0, 0, ())
    major, minor, patch, pre = match.groups()
    pre_key = tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in (pre or "").split(".") if pre
    )
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre_key)


def _manifests(recipe: Recipe) -> list[dict[str, Any]]:
    manifests = recipe.get("Manifests")
    if not isinstance(manifests, list):
        return []
    return [m for m in manifests if isinstance(m, dict)]


def _artifacts(recipe: Recipe) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for manifest in _manifests(recipe):
        artifacts = manifest.get("Artifacts")
        if isinstance(artifacts, list):
            found.extend(a for a in artifacts if isinstance(a, dict))
    return found


def s3_artifact_uris(recipe: Recipe) -> list[str]:
    """S3 artifact URIs in recipe order, without duplicates (others are not checked)."""
    uris: list[str] = []
    for artifact in _artifacts(recipe):
        uri = artifact.get("Uri") or artifact.get("URI")
        if isinstance(uri, str) and uri.startswith("s3://") and uri not in uris:
            uris.append(uri)
    return uris


def with_digests(recipe: Recipe, digests: dict[str, str]) -> Recipe:
    """A copy with the service-computed Digest and Algorithm, overriding the client's."""
    stored = copy.deepcopy(recipe)
    for artifact in _artifacts(stored):
        uri = artifact.get("Uri") or artifact.get("URI")
        if isinstance(uri, str) and uri in digests:
            artifact["Digest"] = digests[uri]
            artifact["Algorithm"] = DIGEST_ALGORITHM
    return stored


def platforms(recipe: Recipe) -> list[dict[str, Any]]:
    """DescribeComponent's ``platforms``: each manifest's Platform with string attributes."""
    found: list[dict[str, Any]] = []
    for manifest in _manifests(recipe):
        platform = manifest.get("Platform")
        if not isinstance(platform, dict):
            continue
        attributes = {str(k): str(v) for k, v in platform.items() if isinstance(v, str) and v}
        entry = {"attributes": attributes}
        if entry not in found:
            found.append(entry)
    return found


def text_field(recipe: Recipe, key: str) -> str | None:
    value = recipe.get(key)
    return value if isinstance(value, str) and value else None


def render(recipe: Recipe, output_format: str) -> bytes:
    """The stored recipe in the format GetComponent was asked for."""
    if output_format == "YAML":
        return yaml.safe_dump(recipe, sort_keys=False).encode()
    return json.dumps(recipe, indent=2).encode()
