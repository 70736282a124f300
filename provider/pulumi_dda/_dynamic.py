"""What both dynamic providers share: stack-config AWS settings, progress lines, unknowns,
and expected failures shown as one line.

Providers are pickled into Pulumi state by reference, so this base class must stay importable
under this name and hold nothing but plain strings.

**Errors without tracebacks.** Pulumi's dynamic-provider server (``pulumi.dynamic.__main__``,
SDK 3.272) wraps every hook in ``_abort_with_traceback``: whatever a hook raises is sent to the
engine as gRPC status ``UNKNOWN`` whose details are ``traceback.format_exc()``, and the engine
prints those details as the resource's error — a 40-line traceback around one useful line.
Check failures are returned as data and never raise. For the other hooks, :func:`one_line`
catches this project's own :class:`~pulumi_dda.errors.DdaError` (an expected failure: bad
input, an AWS error, a timeout), sets the status and details on the call's gRPC context itself,
and returns normally: the engine then shows ``error: <message>``. The context is the
``context`` argument of the server's handler, found on the call stack. Unexpected exceptions
(bugs) keep their traceback, and ``PULUMI_DDA_DEBUG=1`` keeps it for every error.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import grpc
import pulumi
from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from ._types import JSONDict
from .aws import AwsClients, AwsSettings
from .errors import DdaError

H = TypeVar("H", bound=Callable[..., Any])


def progress(message: str) -> None:
    """One progress line. The provider process has no engine connection; the engine shows
    its stderr in the ``pulumi up`` output."""
    sys.stderr.write(f"pulumi-dda: {message}\n")
    sys.stderr.flush()


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


def _call_context() -> grpc.ServicerContext | None:
    """The gRPC context of the request the current hook serves (see the module docstring)."""
    frame = sys._getframe(2)
    while frame is not None:
        context = frame.f_locals.get("context")
        if isinstance(context, grpc.ServicerContext):
            return context
        frame = frame.f_back  # type: ignore[assignment]
    return None


def one_line(failed: Any) -> Callable[[H], H]:
    """Report a hook's :class:`DdaError` as the engine's one-line error, returning ``failed``."""

    def decorate(hook: H) -> H:
        @functools.wraps(hook)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return hook(*args, **kwargs)
            except DdaError as exc:
                context = None if os.environ.get("PULUMI_DDA_DEBUG") else _call_context()
                if context is None:
                    raise
                context.set_code(grpc.StatusCode.UNKNOWN)
                context.set_details(str(exc))
                return failed

        return wrapper  # type: ignore[return-value]

    return decorate


LEGACY_TYPE = "pulumi-python:dynamic:Resource"
"""The type every dynamic resource had before each got its own (``dynamic/dda:...``)."""


def typed_options(
    resource_type: str, opts: pulumi.ResourceOptions | None
) -> pulumi.ResourceOptions | None:
    """``opts`` plus an alias to the generic type, so stacks made before the resource had its
    own type token keep their resources (no replacement) when they upgrade."""
    if resource_type == LEGACY_TYPE:
        return opts
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=LEGACY_TYPE)])
    )


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
