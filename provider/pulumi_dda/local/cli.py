"""``pulumi-dda local``: run the local AWS endpoint in the foreground until interrupted.

The ready line is printed (and flushed) only once the port is bound, so a parent process
can start this, read one line from stdout and use the URL on it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from . import settings as endpoint_settings
from .endpoint import LocalEndpoint, RemoteBindError
from .greengrass.devices import parse_device_spec
from .local_server import seed_local_servers

READY_PREFIX = "pulumi-dda local endpoint ready at "


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-dda local",
        description="Serve Greengrass v2 (local emulation) and S3/IoT/IAM/STS (moto) on one port.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1); a non-loopback one needs --allow-remote",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="accept a non-loopback --host: the endpoint and its admin API (reset, fault "
        "injection, request log) have no authentication, so anyone who reaches the port can use "
        "them",
    )
    parser.add_argument("--port", type=int, default=4566, help="port; 0 picks a free one")
    parser.add_argument("--region", default="us-east-1", help="region of unsigned requests")
    parser.add_argument(
        "--seed-local-server",
        action="store_true",
        help="publish stand-ins of DDA's LocalServer components (arm64, amd64; 1.0.0) in the "
        "default account and region, so model components that depend on them can be created",
    )
    parser.add_argument(
        "--core-device",
        action="append",
        default=[],
        metavar="SPEC",
        help="a simulated Greengrass core device, e.g. name=core-1,thing_groups=line1+canary,"
        "outcome=fail,fail_on=model-x@2.0.0,delay=2 (keys: thing_name/name, thing_groups, "
        "join_after, outcome succeed|fail|time_out, delay, fail_on, break_on, online, "
        "reconnect_after, reason, error_stack, error_types, platform, architecture, "
        "kind simulated|nucleus: kind=nucleus installs on the real Greengrass nucleus); "
        "repeatable; kept by reset",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    endpoint_settings.add_arguments(parser)
    return parser


def cli_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pulumi-dda local``; returns the process exit status."""
    args = _parser().parse_args(list(argv) if argv is not None else None)
    try:
        endpoint = LocalEndpoint(
            args.host,
            args.port,
            args.region,
            quiet=not args.verbose,
            allow_remote=args.allow_remote,
            core_devices=[parse_device_spec(spec) for spec in args.core_device],
            **endpoint_settings.from_arguments(args),
        )
    except (RemoteBindError, ValueError, TypeError) as err:
        print(f"pulumi-dda local: {err}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        endpoint.start()
        if args.seed_local_server:
            seed_local_servers(endpoint.client("greengrassv2"))
        print(f"{READY_PREFIX}{endpoint.url}", flush=True)
        while not stop.wait(0.5):
            pass
    except OSError as err:
        print(f"pulumi-dda local: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 1
    finally:
        endpoint.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
