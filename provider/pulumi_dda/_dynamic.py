"""What both dynamic providers share: stack-config AWS settings, progress lines, unknowns.

Providers are pickled into Pulumi state by reference, so this base class must stay importable
under this name and hold nothing but plain strings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from ._types import JSONDict
from .aws import AwsClients, AwsSettings

_progress_sinks: list[Callable[[str], None]] = []


def add_progress_sink(sink: Callable[[str], None]) -> None:
    """Also send every progress line to ``sink`` (the provider plugin logs them to the engine,
    which hides a provider plugin's stderr)."""
    _progress_sinks.append(sink)


def progress(message: str) -> None:
    """One progress line. The dynamic provider process has no engine connection; the engine
    shows its stderr in the ``pulumi up`` output."""
    sys.stderr.write(f"pulumi-dda: {message}\n")
    sys.stderr.flush()
    for sink in _progress_sinks:
        sink(message)


def is_unknown(value: Any) -> bool:
    """A value another resource computes, not known during a preview."""
    return isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN)


def is_known(value: Any) -> bool:
    """No unknown value anywhere inside ``value``."""
    if isinstance(value, Mapping):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return not is_unknown(value)


class AwsResourceProvider(ResourceProvider):
    """Reads ``aws:region`` and ``aws:profile`` from the stack config, as pulumi-aws does."""

    aws_region: str = ""
    aws_profile: str = ""

    def configure(self, req: ConfigureRequest) -> None:
        self.aws_region = str(req.config.get("aws:region") or "")
        self.aws_profile = str(req.config.get("aws:profile") or "")

    def clients(self, props: JSONDict, default_region: str = "") -> AwsClients:
        """Clients for one hook call: ``region`` input, else ``default_region``, else config."""
        owner = str(props.get("owner") or "pulumi-dda")
        return AwsClients(
            AwsSettings(
                region=props.get("region") or default_region or self.aws_region,
                profile=self.aws_profile,
                role_arn=props.get("role_arn") or "",
                session_name=f"pulumi-dda-{owner.replace('/', '-')}"[:64],
            )
        )
