"""The admin HTTP API under ``/_dda_local/``: the control surface for another process.

An end-to-end test that starts ``pulumi-dda local`` as a subprocess cannot call
:class:`~pulumi_dda.local.server.LocalAWSApp` methods; these JSON endpoints are the same
methods over HTTP (``AdminClient`` is their client). Admin calls are not AWS requests and
do not appear in the request log, so reading the log does not change it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .control import Fault
from .greengrass.exceptions import GreengrassV2Error, render_error
from .greengrass.responses import Reply

if TYPE_CHECKING:
    from .server import LocalAWSApp

Handler = Callable[[dict[str, Any]], Any]


def _json_reply(status: int, data: Any) -> Reply:
    return Reply(status, [("Content-Type", "application/json")], json.dumps(data).encode())


class AdminAPI:
    """``(method, path)`` -> handler over the app's control methods."""

    def __init__(self, app: LocalAWSApp) -> None:
        self.app = app
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "health"): lambda _: {"status": "ok"},
            ("GET", "faults"): lambda _: self._faults(),
            ("POST", "faults"): self._add_fault,
            ("DELETE", "faults"): lambda _: self._run(app.clear_faults),
            ("POST", "force-failed"): self._force_failed,
            ("POST", "sagemaker-job-status"): lambda body: self._run(
                lambda: app.set_sagemaker_job_status(**body)
            ),
            ("GET", "config"): lambda _: app.configure(),
            ("POST", "config"): lambda body: app.configure(**body),
            ("GET", "requests"): lambda _: {"requests": [r.to_dict() for r in app.request_log()]},
            ("DELETE", "requests"): lambda _: self._run(app.clear_request_log),
            ("POST", "reset"): lambda _: self._run(app.reset),
            ("POST", "core-devices"): lambda body: app.add_core_device(**body),
            ("GET", "core-devices"): lambda _: {"core_devices": app.core_devices()},
        }

    def handle(self, environ: dict[str, Any]) -> Reply:
        method = str(environ.get("REQUEST_METHOD", "GET"))
        path = str(environ.get("PATH_INFO", "")).split("/_dda_local/", 1)[1].strip("/")
        handler = self.routes.get((method, path))
        if handler is None:
            return _json_reply(404, {"message": f"no admin route {method} /_dda_local/{path}"})
        try:
            return _json_reply(200, handler(self._body(environ)))
        except GreengrassV2Error as err:
            return Reply(*render_error(err))
        except (KeyError, TypeError, ValueError) as err:
            return _json_reply(400, {"message": f"bad admin request: {err!r}"})

    @staticmethod
    def _body(environ: dict[str, Any]) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        data = json.loads(raw) if raw.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("admin request body must be a JSON object")
        return data

    @staticmethod
    def _run(action: Callable[[], None]) -> dict[str, str]:
        action()
        return {"status": "ok"}

    def _faults(self) -> dict[str, Any]:
        return {"faults": [f.to_dict() for f in self.app.faults()]}

    def _add_fault(self, body: dict[str, Any]) -> dict[str, Any]:
        fault = Fault.from_dict(body)
        self.app.inject_fault(
            fault.operation,
            fault.error,
            fault.count,
            message=fault.message,
            status=fault.status,
            service=fault.service,
            delay=fault.delay,
        )
        return self._faults()

    def _force_failed(self, body: dict[str, Any]) -> dict[str, str]:
        self.app.force_failed(str(body["arn"]), str(body["message"]), body.get("errors"))
        return {"status": "ok"}
