"""The exception tree of pulumi-dda.

Every error a user can cause or meet is a :class:`DdaError`; its message is one line that names
the input, archive member, field or AWS operation involved and, where there is one, the fix.
botocore errors become :class:`AwsError` in exactly one place (:func:`pulumi_dda.aws.aws_errors`).
"""

from __future__ import annotations


class DdaError(Exception):
    """Base class of every error raised by pulumi-dda."""


class InputError(DdaError):
    """An input (argument, archive content, name, version, target) is not acceptable.

    ``field`` names the resource input it concerns (``compiled_models.x86_64-cpu``), or is
    empty; the engine shows check failures against it.
    """

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class ArchiveError(InputError):
    """An archive is malformed, hostile, or over a configured cap."""


class SourceChangedError(InputError):
    """A source archive is not the object its identity names any more (overwritten since it
    was looked up). ``uri`` names it; ``change`` is ``<kind> <looked up> → <found>``."""

    def __init__(self, uri: str, kind: str, was: str, now: str) -> None:
        self.uri, self.change = uri, f"{kind} {was} → {now}"
        super().__init__(f"{uri} changed since it was looked up ({self.change})")


class AwsError(DdaError):
    """An AWS call failed; ``code`` is the service's error code when it gave one."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class NotFoundError(AwsError):
    """The AWS resource looked up does not exist (any more)."""


class ConflictError(AwsError):
    """The AWS resource exists with other content than this project would create."""


class WaitTimeoutError(AwsError):
    """A resource did not reach its target state within the allowed time."""
