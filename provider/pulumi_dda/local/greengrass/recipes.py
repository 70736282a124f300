"""Component recipes as the service sees them: parse, check, read artifacts, rewrite, render.

Recipes arrive as bytes (JSON or YAML). What the real service does with them that a client
depends on: an unparsable recipe is refused with a misleading AccessDeniedException; names
and versions are limited; the service stores a rewritten recipe (:func:`stored_recipe`:
defaults filled in, each S3 artifact's ``Digest`` computed by the service, keys reordered)
and ``GetComponent`` returns that, in the format asked for, never the bytes sent. Rules
that no source settled (marked *unconfirmed*) follow the stricter reading.
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
GENERIC_COMPONENT_TYPE = "aws.greengrass.generic"
DEFAULT_UNARCHIVE = "NONE"
DEFAULT_PERMISSION = {"Read": "OWNER", "Execute": "NONE"}


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


OPERATORS = (">=", "<=", "^", "~", ">", "<", "=")


def satisfies(version: str, requirement: str) -> bool:
    """Whether ``version`` meets a recipe's ``VersionRequirement`` (npm-style ranges, as the
    recipe reference says: space-separated comparators ``>=1.0.0 <2.0.0``, ``^1.0.0``,
    ``~1.2.0``, an exact version; empty means any)."""
    key = semver_key(version)[:3]
    for comparator in requirement.split():
        op = next(
            (p for p in (">=", "<=", "^", "~", ">", "<", "=") if comparator.startswith(p)), ""
        )
        bound = semver_key(comparator[len(op) :])[:3]
        upper = {"^": (bound[0] + 1, 0, 0), "~": (bound[0], bound[1] + 1, 0)}.get(op)
        checks = {
            "^": bound <= key < (upper or key),
            "~": bound <= key < (upper or key),
            ">=": key >= bound,
            "<=": key <= bound,
            ">": key > bound,
            "<": key < bound,
        }
        if not checks.get(op, key == bound):
            return False
    return True


def newest_satisfying(versions: list[str], requirement: str) -> str | None:
    """The newest of ``versions`` that meets ``requirement``, if any."""
    fitting = [v for v in versions if satisfies(v, requirement)]
    return max(fitting, key=semver_key) if fitting else None


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


def stored_recipe(recipe: Recipe, digests: dict[str, str]) -> Recipe:
    """The recipe as the service stores it, and as ``GetComponent`` returns it.

    Evidence [medium-high]: the Greengrass Development Kit
    (github.com/aws-greengrass/aws-greengrass-gdk-cli) compares the recipe it published with
    the one ``GetComponent`` returns from a real account and tolerates exactly these
    differences, and AWS-published recipes have this shape: ``ComponentType:
    aws.greengrass.generic`` and a top-level ``Lifecycle: {}`` added when absent; each
    artifact's ``URI`` spelled ``Uri``, with the defaults ``Unarchive: NONE`` and
    ``Permission: {Read: OWNER, Execute: NONE}`` filled in (the recipe reference documents
    these defaults) and ``Digest``/``Algorithm`` replaced by the service's own [high: the
    recipe reference says "If you set this parameter, AWS IoT Greengrass replaces the
    value"]; key order changed, modelled here as keys sorted at every level. Unknown,
    hence unchanged: numbers and ``VersionRequirement`` strings.
    """
    stored = copy.deepcopy(recipe)
    stored.setdefault("ComponentType", GENERIC_COMPONENT_TYPE)
    stored.setdefault("Lifecycle", {})
    for artifact in _artifacts(stored):
        _rewrite_artifact(artifact, digests)
    rewritten: Recipe = _sorted_keys(stored)
    return rewritten


def _rewrite_artifact(artifact: dict[str, Any], digests: dict[str, str]) -> None:
    if "URI" in artifact:
        uri = artifact.pop("URI")
        artifact.setdefault("Uri", uri)
    artifact.setdefault("Unarchive", DEFAULT_UNARCHIVE)
    permission = artifact.setdefault("Permission", {})
    if isinstance(permission, dict):
        for key, value in DEFAULT_PERMISSION.items():
            permission.setdefault(key, value)
    uri = artifact.get("Uri")
    if isinstance(uri, str) and uri in digests:
        artifact["Digest"] = digests[uri]
        artifact["Algorithm"] = DIGEST_ALGORITHM


def _sorted_keys(value: Any) -> Any:
    """A copy with every mapping's keys in sorted order (YAML keys need not be strings)."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


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
    """The stored recipe in the format GetComponent was asked for, in its stored key order."""
    if output_format == "YAML":
        return yaml.safe_dump(recipe, sort_keys=False).encode()
    return json.dumps(recipe, indent=2).encode()
