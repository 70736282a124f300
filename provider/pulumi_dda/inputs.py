"""``DdaModelComponent``'s inputs, parsed once into a typed value.

The engine hands the provider loosely typed properties (a number where a string belongs
arrives as a float, ``1`` as ``1.0``). :meth:`ModelInputs.parse` checks every type and range
that needs no AWS call, raising an :class:`~pulumi_dda.errors.InputError` that carries the
input's name, and nothing downstream reads the raw properties again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import arn as arns
from ._types import JSONDict
from .build import BuildRequest, validate_request
from .errors import InputError
from .ownership import BOOKKEEPING_TAGS
from .package import ArchiveLimits, package_file_name, package_s3_key
from .properties import ARCHIVE_LIMITS
from .recipe import ComponentNaming, build_recipe, check_recipe_size, validate_component_version
from .sagemaker import COMPILATION_JOB, MODEL_PACKAGE, TRAINING_JOB, is_sagemaker, parse_name

MAX_TAGS = 50
"""Tags per Greengrass resource (the service's limit)."""
HOLDER_ROOM = 10
"""Tags kept free on a version for the stacks that adopt it (one each)."""
MAX_USER_TAGS = MAX_TAGS - BOOKKEEPING_TAGS - HOLDER_ROOM
MAX_TAG_KEY, MAX_TAG_VALUE = 128, 256
RESERVED_TAG_PREFIXES = ("aws:", "pulumi-dda:")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")


def check_region(region: str) -> None:
    """A region name's shape (``eu-west-1``, ``us-gov-west-1``): catches typos before any call."""
    if not _REGION.match(region):
        raise InputError(
            f"region {region!r} is not an AWS region name (for example eu-west-1); set the "
            "region input or the stack config aws:region",
            field="region",
        )


def _text(props: JSONDict, key: str, *, required: bool = False) -> str:
    value = props.get(key)
    if value is None or value == "":
        if required:
            raise InputError(f"{key} is required", field=key)
        return ""
    if not isinstance(value, str):
        shown = f"{value:g}" if isinstance(value, float) else repr(value)
        raise InputError(
            f"{key} must be a string, got {type(value).__name__} {shown}"
            + (f" (quote it: '{shown}.0.0')" if key == "component_version" else ""),
            field=key,
        )
    return value


def _flag(props: JSONDict, key: str, default: bool) -> bool:
    value = props.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InputError(f"{key} must be true or false, got {value!r}", field=key)
    return value


def _trained_model(props: JSONDict) -> str:
    uri = _text(props, "trained_model_uri", required=True)
    _check_sagemaker("trained_model_uri", uri, (TRAINING_JOB, MODEL_PACKAGE))
    return uri


def _compiled_models(props: JSONDict) -> dict[str, str]:
    value = props.get("compiled_models")
    if not value:
        raise InputError("compiled_models is required", field="compiled_models")
    if not isinstance(value, Mapping):
        raise InputError(
            "compiled_models must be a mapping of compilation target to archive URI",
            field="compiled_models",
        )
    for target, uri in value.items():
        if not isinstance(uri, str) or not uri:
            raise InputError(
                f"compiled_models.{target} must be an s3:// URI, a sagemaker:// name or a local "
                f"path, got {uri!r}",
                field=f"compiled_models.{target}",
            )
        _check_sagemaker(f"compiled_models.{target}", uri, (COMPILATION_JOB, MODEL_PACKAGE))
    return dict(value)


def _check_sagemaker(key: str, uri: str, kinds: tuple[str, ...]) -> None:
    """A ``sagemaker://`` source parses and names what this input takes: a training job's
    output is a trained model, a compilation job's a compiled one (no AWS call)."""
    if not is_sagemaker(uri):
        return
    try:
        name = parse_name(uri)
    except InputError as exc:
        raise InputError(f"{key}: {exc}", field=key) from None
    if name.kind not in kinds:
        what = "a trained model" if key == "trained_model_uri" else "a compiled model"
        raise InputError(
            f"{key} {uri}: a {name.kind.replace('-', ' ')} does not make {what}; name "
            + " or ".join(f"sagemaker://{k}/..." for k in kinds),
            field=key,
        )


def _tags(props: JSONDict) -> dict[str, str]:
    value = props.get("tags") or {}
    check_tags(value)
    return dict(value)


def check_tags(value: object) -> None:
    """User tags of a component version or a deployment: strings, within the service's sizes,
    no reserved prefix, room left for pulumi-dda's own tags (both resources)."""
    if not isinstance(value, Mapping):
        raise InputError("tags must be a mapping of string to string", field="tags")
    for key, text in value.items():
        if not isinstance(text, str):
            raise InputError(f"tags.{key} must be a string, got {text!r}", field="tags")
        if not 1 <= len(key) <= MAX_TAG_KEY:
            raise InputError(
                f"tags: key {key[:40]!r}... is over {MAX_TAG_KEY} characters", field="tags"
            )
        if len(text) > MAX_TAG_VALUE:
            raise InputError(f"tags.{key} is over {MAX_TAG_VALUE} characters", field="tags")
        if key.lower().startswith(RESERVED_TAG_PREFIXES):
            raise InputError(
                f"tags: the key {key!r} uses a reserved prefix "
                f"({', '.join(RESERVED_TAG_PREFIXES)})",
                field="tags",
            )
    if len(value) > MAX_USER_TAGS:
        raise InputError(
            f"tags: {len(value)} tags, at most {MAX_USER_TAGS} are allowed (Greengrass allows "
            f"{MAX_TAGS} per resource; pulumi-dda keeps the rest for its own tags)",
            field="tags",
        )


def check_role_arn(value: object) -> None:
    """The role every AWS call of a resource assumes (both resources)."""
    if not arns.is_role(value):
        raise InputError(
            f"role_arn {value!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
            field="role_arn",
        )


LIMIT_KEYS = tuple(p.snake for p in ARCHIVE_LIMITS.props)


def _limits(props: JSONDict) -> ArchiveLimits:
    value = props.get("archive_limits") or {}
    if not isinstance(value, Mapping):
        raise InputError(
            f"archive_limits must be a mapping with some of {', '.join(LIMIT_KEYS)}",
            field="archive_limits",
        )
    defaults = ArchiveLimits()
    limits: dict[str, int] = {}
    for key in LIMIT_KEYS:
        number = value.get(key, getattr(defaults, key))
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or not math.isfinite(number)
            or number < 1
        ):
            raise InputError(
                f"archive_limits.{key} must be a positive whole number, got {number!r}",
                field="archive_limits",
            )
        if number != int(number):
            raise InputError(f"archive_limits.{key} must be a whole number", field="archive_limits")
        limits[key] = int(number)
    if extra := sorted(set(value) - set(limits)):
        raise InputError(
            f"archive_limits: unknown keys {extra} (allowed: {sorted(LIMIT_KEYS)})",
            field="archive_limits",
        )
    return ArchiveLimits(**limits)


def _timeout(props: JSONDict) -> float:
    value = props.get("wait_timeout_seconds") or 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(
            f"wait_timeout_seconds must be a number of seconds, got {value!r}",
            field="wait_timeout_seconds",
        )
    if value < 0:
        raise InputError(
            f"wait_timeout_seconds must be positive (0 or omitted: 900), got {value:g}",
            field="wait_timeout_seconds",
        )
    return float(value)


@dataclass(frozen=True)
class ModelInputs:
    """The user's inputs of one ``DdaModelComponent``, checked."""

    component_name: str
    component_version: str
    """As given; empty when omitted (each target then gets its own version)."""
    trained_model_uri: str
    compiled_models: dict[str, str]
    artifact_bucket: str
    artifact_prefix: str
    friendly_name: str
    target_suffix: bool
    tags: dict[str, str]
    role_arn: str
    region: str
    relax_device_checks: bool
    wait_timeout_seconds: float
    owner: str
    limits: ArchiveLimits = field(default_factory=ArchiveLimits)
    """Caps on every archive read (``archive_limits``: ``max_total_bytes``, ``max_members``,
    ``max_compression_ratio``)."""

    @classmethod
    def parse(cls, props: JSONDict) -> ModelInputs:
        model = cls(
            component_name=_text(props, "component_name", required=True),
            component_version=_text(props, "component_version"),
            trained_model_uri=_trained_model(props),
            compiled_models=_compiled_models(props),
            artifact_bucket=_text(props, "artifact_bucket", required=True),
            artifact_prefix=_text(props, "artifact_prefix"),
            friendly_name=_text(props, "friendly_name"),
            target_suffix=_flag(props, "target_suffix", True),
            tags=_tags(props),
            role_arn=_text(props, "role_arn"),
            region=_text(props, "region"),
            relax_device_checks=_flag(props, "relax_device_checks", False),
            wait_timeout_seconds=_timeout(props),
            owner=_text(props, "owner", required=True),
            limits=_limits(props),
        )
        model.validate()
        return model

    def validate(self) -> None:
        if self.component_version:
            validate_component_version(self.component_version)
        if self.role_arn:
            check_role_arn(self.role_arn)
        if self.region:
            check_region(self.region)
        longest_id = "f" * 12
        uri = f"s3://{self.artifact_bucket}/{package_s3_key(longest_id, self.artifact_prefix)}"
        for naming in self.naming().values():
            recipe = build_recipe(
                naming,
                self.component_version or "99999.0.0",
                uri,
                "=" * 44,  # a SHA-256 digest in base64
                package_file_name(longest_id),
            )
            check_recipe_size(recipe)

    def request(self, version: str = "1.0.0") -> BuildRequest:
        """The three phases' request (with a provisional version until one is resolved)."""
        return BuildRequest(
            trained_model=self.trained_model_uri,
            compiled_models=self.compiled_models,
            component_name=self.component_name,
            component_version=version,
            artifact_bucket=self.artifact_bucket,
            artifact_prefix=self.artifact_prefix,
            friendly_name=self.friendly_name or None,
            target_suffix=self.target_suffix,
            relax_device_checks=self.relax_device_checks,
            limits=self.limits,
        )

    def naming(self) -> dict[str, ComponentNaming]:
        """Per-target component names (validates names, targets, bucket and prefix)."""
        return validate_request(self.request(), check_version=False)
