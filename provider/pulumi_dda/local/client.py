"""``AdminClient``: the endpoint's control methods, for an endpoint in another process.

Same method names and results as :class:`~pulumi_dda.local.LocalEndpoint`, so a test can
be written once against either. Standard library only, so it works wherever the tests run.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from .control import Fault, RequestRecord


class AdminError(RuntimeError):
    """The admin API refused a call; the message is the endpoint's."""


class AdminClient:
    """Talks to ``<url>/_dda_local/...`` of a running ``pulumi-dda local`` endpoint."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/_dda_local/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")
            raise AdminError(f"{method} /_dda_local/{path}: HTTP {err.code}: {detail}") from None

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Poll the health route until the endpoint answers (for freshly started ones)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._call("GET", "health")
                return
            except (OSError, AdminError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def inject_fault(
        self,
        operation: str,
        error: str,
        count: int = 1,
        *,
        message: str | None = None,
        status: int | None = None,
        service: str | None = None,
        delay: float = 0.0,
    ) -> None:
        fault = Fault(operation, error, count, message, status, service, delay)
        self._call("POST", "faults", fault.to_dict())

    def faults(self) -> list[Fault]:
        return [Fault.from_dict(f) for f in self._call("GET", "faults")["faults"]]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def force_failed(self, arn: str, message: str, errors: dict[str, str] | None = None) -> None:
        self._call("POST", "force-failed", {"arn": arn, "message": message, "errors": errors})

    def set_sagemaker_job_status(
        self, kind: str, name: str, status: str, failure_reason: str = ""
    ) -> None:
        """Put a SageMaker training or compilation job into ``status`` (see ``LocalAWSApp``)."""
        body = {"kind": kind, "name": name, "status": status, "failure_reason": failure_reason}
        self._call("POST", "sagemaker-job-status", body)

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change the named settings (fields of ``EndpointSettings``); return all of them."""
        body = {name: value for name, value in changes.items() if value is not None}
        result: dict[str, Any] = self._call("POST", "config", body)
        return result

    def add_core_device(self, thing_name: str, **spec: Any) -> dict[str, Any]:
        """Add a simulated core device or change its behaviour (see ``LocalAWSApp``)."""
        result: dict[str, Any] = self._call(
            "POST", "core-devices", {"thing_name": thing_name, **spec}
        )
        return result

    def core_devices(self) -> list[Any]:
        return list(self._call("GET", "core-devices")["core_devices"])

    def set_state_delay(self, seconds: float) -> None:
        self.configure(state_delay=seconds)

    def request_log(self) -> list[RequestRecord]:
        return [RequestRecord.from_dict(r) for r in self._call("GET", "requests")["requests"]]

    def clear_request_log(self) -> None:
        self._call("DELETE", "requests")

    def reset(self) -> None:
        self._call("POST", "reset")
