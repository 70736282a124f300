"""The ``dda`` package's schema, and the one place its camelCase names meet the providers'.

Each resource property is declared once, by its provider's snake_case input name, with its type,
description and default. From these declarations come the published Pulumi schema (what YAML
type-checks against and what the TypeScript SDK is generated from) and the translation at the
plugin's edge: camelCase properties in, snake_case to :mod:`..model_component` and
:mod:`..deployment`, and back. Keys the schema does not declare (the providers' internal state,
``owner``) pass through unchanged, as do the keys of maps (targets, component names, tags),
values typed ``Any`` (the DDA manifest) and the objects the Greengrass API takes as they are
(deployment policies, IoT job configuration: :attr:`ObjectType.api_shaped`). An optional input
the program leaves out is absent from the checked inputs, state and outputs; the hooks receive
its :attr:`Prop.default` (:func:`to_provider`), and a state written by an earlier release, which
held those placeholders, reads the same.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from importlib import metadata
from typing import Any, Literal

from pulumi.runtime.rpc import UNKNOWN

from pulumi_dda._types import JSONDict
from pulumi_dda.properties import (
    CONFIG,
    DEPLOYMENT,
    ENUM_TYPES,
    GREENGRASS_DEPLOYMENT,
    INTEGER,
    MODEL,
    MODEL_COMPONENT,
    OBJECT_TYPES,
    PACKAGE,
    PLUGIN_DOWNLOAD_URL,
    REPOSITORY,
    RESOURCES,
    AnyValue,
    EnumOf,
    Kind,
    ListOf,
    MapOf,
    Prop,
    Ref,
    ResourceType,
    Scalar,
)

__all__ = [
    "CONFIG",
    "DEPLOYMENT",
    "GREENGRASS_DEPLOYMENT",
    "MODEL",
    "MODEL_COMPONENT",
    "PACKAGE",
    "RESOURCES",
    "ResourceType",
]


# -- translation at the plugin's edge ---------------------------------------------------------

Direction = Literal["in", "out"]


def convert(kind: Kind, value: Any, direction: Direction = "in") -> Any:
    """``value`` of type ``kind`` with its objects' keys renamed: ``in`` schema → provider
    (camelCase → snake_case), ``out`` the reverse. An API-shaped object keeps its keys. A whole
    number where the schema says integer becomes an ``int``."""
    if kind == INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)  # the protocol's numbers are doubles; the API wants integers
    if isinstance(kind, MapOf) and isinstance(value, Mapping):
        return {k: convert(kind.values, v, direction) for k, v in value.items()}
    if isinstance(kind, ListOf) and isinstance(value, list):
        return [convert(kind.items, v, direction) for v in value]
    if isinstance(kind, Ref) and isinstance(value, Mapping):
        obj = kind.object_type
        by_name = obj.api_shaped or direction == "in"
        names = {(p.name if by_name else p.snake): p for p in obj.props}
        return {
            (_rename(names[k], direction, obj.api_shaped) if k in names else k): (
                convert(names[k].kind, v, direction) if k in names else v
            )
            for k, v in value.items()
        }
    return value


def _rename(prop: Prop, direction: Direction, api_shaped: bool) -> str:
    return prop.snake if direction == "in" and not api_shaped else prop.name


def to_provider(resource: ResourceType, props: Mapping[str, Any]) -> JSONDict:
    """Schema (camelCase) properties → the provider's snake_case ones, with each optional
    input's default for what is absent (unless ``props`` is empty: no old state)."""
    result: JSONDict = {}
    for key, value in props.items():
        prop = resource.by_name.get(key)
        result[prop.snake if prop else key] = convert(prop.kind, value, "in") if prop else value
    return with_defaults(resource, result) if result else result


def from_provider(resource: ResourceType, props: Mapping[str, Any]) -> JSONDict:
    """The provider's snake_case properties → the schema's camelCase ones, without the inputs
    that hold only their placeholder default (absent: not set)."""
    result: JSONDict = {}
    for key, value in props.items():
        prop = resource.by_snake.get(key)
        if prop is not None and prop.placeholder and value == prop.default:
            continue
        result[prop.name if prop else key] = convert(prop.kind, value, "out") if prop else value
    return result


def unknown_keys(resource: ResourceType, props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(property, message)`` for each typed object (schema properties, camelCase) that has keys
    its type does not declare (the providers would take a snake_case key for their own), and
    each value of an enum type that is not one of its values."""
    found: list[tuple[str, str]] = []
    for key, value in props.items():
        if prop := resource.by_name.get(key):
            _unknown_keys(prop.kind, value, key, key, found)
    return found


def _unknown_keys(
    kind: Kind, value: Any, path: str, top: str, found: list[tuple[str, str]]
) -> None:
    if isinstance(kind, MapOf) and isinstance(value, Mapping):
        for key, item in value.items():
            _unknown_keys(kind.values, item, f"{path}.{key}", top, found)
    elif isinstance(kind, ListOf) and isinstance(value, list):
        for index, item in enumerate(value):
            _unknown_keys(kind.items, item, f"{path}[{index}]", top, found)
    elif isinstance(kind, Ref) and isinstance(value, Mapping):
        fields = {p.name: p for p in kind.object_type.props}
        if extra := sorted(set(value) - set(fields)):
            found.append((top, f"{path}: unknown keys {extra} (allowed: {sorted(fields)})"))
        for key, item in value.items():
            if key in fields:
                _unknown_keys(fields[key].kind, item, f"{path}.{key}", top, found)
    elif isinstance(kind, EnumOf) and value not in (None, UNKNOWN, *kind.allowed()):
        found.append((top, f"{path}: {value!r} is not one of {kind.allowed()}"))


def with_defaults(resource: ResourceType, props: Mapping[str, Any]) -> JSONDict:
    """The provider's inputs with each input's default for what the program left out."""
    result = dict(props)
    for prop in resource.inputs:
        if result.get(prop.snake) is None and prop.default is not None:
            default = prop.default
            result[prop.snake] = copy.deepcopy(default)
    return result


def _all_props() -> list[Prop]:
    props = [p for r in RESOURCES.values() for p in r.inputs + r.outputs]
    return props + [p for t in OBJECT_TYPES for p in t.props]


SNAKE_TO_NAME = {p.snake: p.name for p in _all_props() if p.snake != p.name}
NAME_TO_SNAKE = {name: snake for snake, name in SNAKE_TO_NAME.items()}


def _identifiers(names: Mapping[str, str]) -> re.Pattern[str]:
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9_])({alternatives})(?![A-Za-z0-9_])")


_SNAKE_WORDS = _identifiers(SNAKE_TO_NAME)
_NAME_WORDS = _identifiers(NAME_TO_SNAKE)
_CONFIG_KEYS = {f"aws:{p.name}": f"{PACKAGE}:{p.name}" for p in CONFIG}
"""The hooks read ``aws:region`` / ``aws:profile``; the plugin's own config is ``dda:*``."""


def schema_names(text: str) -> str:
    """A provider message or field path (``compiled_models.x86_64-cpu``) with the schema's
    property names (``compiledModels.x86_64-cpu``) and config keys (``dda:region``)."""
    for key, name in _CONFIG_KEYS.items():
        text = text.replace(key, name)
    return _SNAKE_WORDS.sub(lambda m: SNAKE_TO_NAME[m.group(1)], text)


def provider_names(text: str) -> str:
    """The inverse of :func:`schema_names`."""
    for key, name in _CONFIG_KEYS.items():
        text = text.replace(name, key)
    return _NAME_WORDS.sub(lambda m: NAME_TO_SNAKE[m.group(1)], text)


# -- the published schema ----------------------------------------------------------------------

SDK_PYTHON_PACKAGE = "pulumi_dda_sdk"
"""The generated Python SDK's import name (distribution ``pulumi-dda-sdk``)."""
SDK_GO_MODULE = f"github.com/{REPOSITORY}/sdk"
"""The generated Go SDK's module; its package is ``<module>/go/dda``."""


def _type_spec(kind: Kind) -> JSONDict:
    if isinstance(kind, Scalar):
        return {"type": kind.name}
    if isinstance(kind, AnyValue):
        return {"$ref": "pulumi.json#/Any"}
    if isinstance(kind, MapOf):
        return {"type": "object", "additionalProperties": _type_spec(kind.values)}
    if isinstance(kind, ListOf):
        return {"type": "array", "items": _type_spec(kind.items)}
    if isinstance(kind, EnumOf):
        return {"$ref": f"#/types/{kind.token}"}
    return {"$ref": f"#/types/{kind.object_type.token}"}


def _props_spec(props: tuple[Prop, ...], *, inputs: bool = False) -> JSONDict:
    spec: JSONDict = {}
    for prop in props:
        entry = {**_type_spec(prop.kind), "description": prop.described()}
        if inputs and prop.default is not None and not prop.placeholder and not _object(prop):
            entry["default"] = prop.default
        if getattr(prop, "change", None) == "replace":
            entry["replaceOnChanges"] = True
        spec[prop.name] = entry
    return spec


def _object(prop: Prop) -> bool:
    """A schema default must be a primitive: an empty map is described, not published."""
    return isinstance(prop.default, dict | list)


def _required(props: tuple[Prop, ...]) -> list[str]:
    return [p.name for p in props if p.required]


def _resource_spec(resource: ResourceType) -> JSONDict:
    everything = resource.inputs + resource.outputs
    # An input with a real default is filled in by Check, so it is always an output too.
    always = [p.name for p in resource.inputs if p.required or not _optional(p)]
    return {
        "description": resource.description,
        "properties": _props_spec(everything),
        "required": sorted(always + _required(resource.outputs)),
        "inputProperties": _props_spec(resource.inputs, inputs=True),
        "requiredInputs": _required(resource.inputs),
    }


def _optional(prop: Prop) -> bool:
    """Absent from the outputs when the program leaves it out."""
    return prop.default is None or prop.placeholder


def _enum_spec(enum: EnumOf) -> JSONDict:
    return {
        "type": "string",
        "description": enum.description,
        "enum": [
            {"name": v.name, "value": v.value, "description": v.description} for v in enum.values
        ],
    }


def package_version() -> str:
    return metadata.version("pulumi-dda")


def package_schema() -> JSONDict:
    """The Pulumi package schema the plugin publishes (``GetSchema``)."""
    return {
        "name": PACKAGE,
        "displayName": "pulumi-dda",
        "version": package_version(),
        "description": "DDA (Defect Detection Application) model components and their "
        "deployments on AWS IoT Greengrass v2.",
        "keywords": ["pulumi", "aws", "greengrass", "dda", "category/cloud"],
        "pluginDownloadURL": PLUGIN_DOWNLOAD_URL,
        "repository": f"https://github.com/{REPOSITORY}",
        "license": "Apache-2.0",
        "config": {"variables": _props_spec(CONFIG)},
        "provider": {
            "description": "The pulumi-dda provider: AWS region and profile for its resources.",
            "inputProperties": _props_spec(CONFIG, inputs=True),
        },
        "types": {
            **{
                t.token: {
                    "type": "object",
                    "description": t.description,
                    "properties": _props_spec(t.props),
                    "required": _required(t.props),
                }
                for t in OBJECT_TYPES
            },
            **{e.token: _enum_spec(e) for e in ENUM_TYPES},
        },
        "resources": {r.token: _resource_spec(r) for r in RESOURCES.values()},
        "language": {
            "nodejs": {
                "packageName": "@pulumi-dda/dda",
                "respectSchemaVersion": True,
                "packageDescription": "pulumi-dda: DDA model components on AWS IoT Greengrass v2",
            },
            # Not `pulumi_dda`: that is this project's own package (the provider itself).
            "python": {
                "packageName": SDK_PYTHON_PACKAGE,
                "respectSchemaVersion": True,
                "pyproject": {"enabled": True},
                "requires": {"pulumi": ">=3.200,<4"},
            },
            "go": {
                "importBasePath": f"{SDK_GO_MODULE}/go/dda",
                "modulePath": SDK_GO_MODULE,
                "generateResourceContainerTypes": True,
                "respectSchemaVersion": True,
            },
            "csharp": {
                "rootNamespace": "PulumiDda",
                "respectSchemaVersion": True,
                "packageReferences": {"Pulumi": "3.*"},
            },
        },
    }


# -- what a preview shows ----------------------------------------------------------------------

ADD, ADD_REPLACE, DELETE, DELETE_REPLACE, UPDATE, UPDATE_REPLACE = range(6)
"""``PropertyDiff.Kind`` of the provider protocol."""
QUIET_LINES = {"plan": "unchanged"}
"""Map entries not worth a line when they take this value (a target this update keeps)."""


def detailed_diff(
    resource: ResourceType, olds: Mapping[str, Any], news: Mapping[str, Any], replaces: set[str]
) -> dict[str, int]:
    """Property path → change kind, per map entry (one target, one tag) rather than per
    property, for the properties the resource declares (schema names on both sides): what
    the engine shows for an update or replacement, so a one-target change reads as a change
    to that target alone, and nothing unchanged or internal is listed."""
    found: dict[str, int] = {}
    for prop in resource.inputs + resource.outputs:
        key = prop.name
        # An input left out holds its placeholder (tags: {}): absent on either side is that.
        absent = prop.default if prop.placeholder else None
        if key not in news and absent is None:
            continue
        old, new = olds.get(key, absent), news.get(key, absent)
        if old == new:
            continue
        replace = key in replaces
        if isinstance(prop.kind, MapOf) and isinstance(old, Mapping) and isinstance(new, Mapping):
            quiet = QUIET_LINES.get(prop.snake)
            for entry in sorted(old.keys() | new.keys()):
                path = f'{key}["{entry}"]'
                if entry not in new:
                    found[path] = DELETE_REPLACE if replace else DELETE
                elif entry not in old:
                    found[path] = ADD_REPLACE if replace else ADD
                elif old[entry] != new[entry] and new[entry] != quiet:
                    found[path] = UPDATE_REPLACE if replace else UPDATE
        elif old in (None, "", {}) and new not in (None, "", {}):
            found[key] = ADD_REPLACE if replace else ADD
        else:
            found[key] = UPDATE_REPLACE if replace else UPDATE
    return found
