"""Every setting of the local endpoint, declared once.

:class:`EndpointSettings` is the only place a setting is written down: its name, type, default,
lower bound and help text. Everything else is derived from it:

* ``LocalEndpoint(**settings)``, ``LocalEndpoint.configure(**changes)`` and
  ``AdminClient.configure(**changes)`` accept exactly these names (:func:`apply` checks them);
* the admin API's ``GET``/``POST /_dda_local/config`` reads and changes them (:func:`apply`);
* ``pulumi-dda local`` has one flag per setting (:func:`add_arguments`, :func:`from_arguments`):
  ``--state-delay 0.5``, ``--[no-]check-deployment-targets``;
* the table in ``local/README.md`` is :func:`markdown_table` (a test keeps the two equal).

Adding a setting is one field here, plus whatever reads it. This module imports nothing from
the rest of the package, so every layer may read it.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


def setting(default: T, help: str, *, minimum: float | None = None, metavar: str = "") -> T:
    """A field of :class:`EndpointSettings`: its default, help text and bounds."""
    meta = {"help": help, "minimum": minimum, "metavar": metavar}
    return field(default=default, metadata=meta)


@dataclass
class EndpointSettings:
    """Knobs of one endpoint, changeable while it runs; ``reset()`` returns to the values the
    endpoint was started with. The evidence behind each default is in the docstring of the code
    that reads the setting."""

    state_delay: float = setting(
        0.2,
        "seconds a new component version spends in each of REQUESTED and INITIATED",
        minimum=0,
        metavar="SECONDS",
    )
    allow_recreate_deleted_versions: bool = setting(
        True,
        "accept CreateComponentVersion of a deleted name+version, as AWS does (evidence: "
        "medium); off refuses it with ConflictException",
    )
    check_deployment_targets: bool = setting(
        True,
        "CreateDeployment requires its target thing or thing group to exist in IoT (stricter "
        "than AWS, unconfirmed)",
    )
    connection_bandwidth: float = setting(
        0.0,
        "send each connection's replies at most this fast, as S3 does (0: no cap)",
        minimum=0,
        metavar="BYTES_PER_S",
    )
    create_rate: float = setting(
        0.0,
        "CreateComponentVersion requests per second per account and region; more are "
        "refused with ThrottlingException (429, Retry-After); evidence low (0: no limit)",
        minimum=0,
        metavar="PER_S",
    )
    describe_deleted_versions: bool = setting(
        False,
        "a deleted component version stays describable with vendorGuidance DELETED and "
        "cannot be deployed (evidence low)",
    )
    minute_seconds: float = setting(
        60.0,
        "real seconds in one minute of a deployment's IoT job configuration (rollout rate, "
        "in-progress timeout), so that staged rollouts can run in seconds",
        minimum=0.001,
        metavar="SECONDS",
    )


def _fields() -> tuple[Field[Any], ...]:
    return fields(EndpointSettings)


def _default(spec: Field[Any]) -> Any:
    assert spec.default is not MISSING, f"setting {spec.name} needs a default"
    return spec.default


def _coerced(spec: Field[Any], value: Any) -> Any:
    """``value`` as the setting's type, or ValueError naming the setting."""
    kind = type(_default(spec))
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"setting {spec.name} must be true or false, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"setting {spec.name} must be a number, not {value!r}")
    minimum = spec.metadata.get("minimum")
    if minimum is not None and value < minimum:
        raise ValueError(f"setting {spec.name} must be >= {minimum:g}, not {value!r}")
    return float(value)


def apply(settings: EndpointSettings, changes: Mapping[str, Any]) -> None:
    """Change the named settings (``None`` values are left alone); all or nothing."""
    known = {spec.name: spec for spec in _fields()}
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ValueError(f"unknown settings {unknown}; known: {sorted(known)}")
    checked = {
        name: _coerced(known[name], value) for name, value in changes.items() if value is not None
    }
    for name, value in checked.items():
        setattr(settings, name, value)


def as_dict(settings: EndpointSettings) -> dict[str, Any]:
    return asdict(settings)


def restore(settings: EndpointSettings, initial: EndpointSettings) -> None:
    """Put every setting back to ``initial``'s value, in place (others hold a reference)."""
    for name, value in asdict(initial).items():
        setattr(settings, name, value)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting; a flag not given leaves the setting at its default."""
    group = parser.add_argument_group("settings (also POST /_dda_local/config)")
    for spec in _fields():
        default = _default(spec)
        text = f"{spec.metadata['help']} (default {default!r})"
        if isinstance(default, bool):
            group.add_argument(
                _flag(spec.name), action=argparse.BooleanOptionalAction, default=None, help=text
            )
        else:
            metavar = spec.metadata["metavar"] or None
            group.add_argument(
                _flag(spec.name), type=float, default=None, metavar=metavar, help=text
            )


def from_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the command line gave, as keyword arguments for ``LocalEndpoint``."""
    given = {spec.name: getattr(args, spec.name) for spec in _fields()}
    return {name: value for name, value in given.items() if value is not None}


def markdown_table() -> str:
    """The settings as the Markdown table the local endpoint's README shows."""
    rows = [
        "| setting (`configure`, `/_dda_local/config`) | flag of `pulumi-dda local` | default "
        "| what |",
        "| --- | --- | --- | --- |",
    ]
    for spec in _fields():
        default = _default(spec)
        if isinstance(default, bool):
            flag = f"`{_flag(spec.name)}` / `--no-{_flag(spec.name)[2:]}`"
            shown = "true" if default else "false"
        else:
            flag = f"`{_flag(spec.name)} {spec.metadata['metavar'] or 'N'}`"
            shown = f"{default:g}"
        rows.append(f"| `{spec.name}` | {flag} | `{shown}` | {spec.metadata['help']} |")
    return "\n".join(rows) + "\n"
