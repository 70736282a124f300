"""Core devices backed by the real AWS IoT Greengrass nucleus, run offline as local deployments.

``../shared/greengrass-nucleus/`` (its README; found through ``PULUMI_DDA_NUCLEUS_HOME`` or next
to the checkout) holds the nucleus 2.18 built from source with the Greengrass CLI as a trusted
plugin. It cannot talk to a cloud, so a device of kind ``nucleus`` is driven the way the
nucleus's own local deployments are: :class:`NucleusRuntime` writes the revision's recipes and
artifacts to a work directory (``RECIPES/<name>-<version>.json``,
``ARTIFACTS/<name>/<version>/<last segment of the Uri>``, the layout the README gives) and runs
``greengrass-cli deployment create --recipeDir --artifactDir --merge NAME=VERSION ... --remove
NAME -fp POLICY``, then ``deployment status -i ID`` until the status is neither QUEUED nor
IN_PROGRESS, then ``component list``. What the nucleus answered (status, ``Detailed Status``,
``Deployment Error Stack``, ``Deployment Error Types``, ``Deployment Failure Cause`` and each
component's version and state) is the :class:`InstallResult`.

Evidence for what is reported (the nucleus's own behaviour; README of the build):

* the CLI's ``-fp`` takes the cloud deployment's ``failureHandlingPolicy`` (``ROLLBACK`` or
  ``DO_NOTHING``; the CLI's default is DO_NOTHING, the cloud's ROLLBACK), so rollback is the
  nucleus's own;
* a wrong ``Digest`` ends the deployment FAILED (``ARTIFACT_DOWNLOAD_ERROR``) and what ran
  before keeps running. Seen here (tests/local/test_local_nucleus.py): the nucleus finds that
  the file it was handed does not match the recipe's ``Digest``, discards it and needs to
  download it from the ``Uri``, which an offline nucleus cannot, so the stack ends in
  ``DEVICE_CONFIG_NOT_VALID_FOR_ARTIFACT_DOWNLOAD`` (``FAILED_NO_STATE_CHANGE: Download required
  for artifact s3://...``). A connected device would download the same wrong bytes and fail
  the integrity check instead: the same outcome, another last code [not observed here];
* a recipe whose only manifest is for another platform is rejected (the machine is
  linux/amd64): ``COMPONENT_PACKAGE_LOADING_ERROR``, ``LOCAL_RECIPE_NOT_FOUND``;
* the states ``component list`` prints (RUNNING, FINISHED, BROKEN, ...) are the nucleus's
  lifecycle states, the same names as ``InstalledComponent.lifecycleState`` in the botocore
  model.

What is a stand-in: DDA's ``/aws_dda/model_convertor.py`` and ``convert_model_cleanup.py``,
which a model recipe's Startup and Shutdown steps run and which the real LocalServer puts on
the device. The nucleus gets a ``python3`` on its ``PATH`` (``<root>/dda-bin``) that runs
:mod:`.dda_standin` for those two paths and the real Python for anything else, so nothing is
written outside the nucleus's root. The stand-in checks what the real convertor needs
(``manifest.json`` in the unarchived folder, a major version above 0; dda-reference.md) and
records the model under ``<root>/aws_dda/models/``.

A nucleus starts on first use (about 3 s, 6-10 s on a busy machine), in its own temporary root,
in its own process group, prepared as ``start-nucleus.sh`` prepares it (:func:`_prepare_root`)
but with ``deploymentPollingFrequencySeconds`` 1; :meth:`NucleusRuntime.stop` kills the group
(SIGTERM, so Shutdown steps run; SIGKILL after 5 s), reaps it and removes the root. A local
deployment then takes about 5-15 s, most of it the CLI's JVM starting for each call.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import json
import os
import pwd
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

STANDIN = Path(__file__).with_name("dda_standin.py")
CLI_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData"
"""JVM flags for each ``greengrass-cli`` call: a short-lived client starts twice as fast."""
STATUS_POLL = 0.5
START_LIMIT = 180.0
DEPLOYMENT_POLLING_SECONDS = 1
INSTALL_LIMIT = 900.0
"""Seconds one local deployment may take before it is reported FAILED (Startup ``Timeout``)."""
_SUBMITTED = re.compile(r"Deployment Id:\s*(\S+)")
_STATUS = re.compile(r"^\S+:\s*(\w+)\s*$", re.MULTILINE)


def _origin_checkout(here: Path) -> list[Path]:
    """The local checkout this one was cloned from (``remote.origin.url`` as a path), if any."""
    try:
        url = subprocess.run(
            ["git", "-C", str(here), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return []
    origin = Path(url.removeprefix("file://"))
    return [origin] if url and origin.is_absolute() and origin.is_dir() else []


class NucleusUnavailable(RuntimeError):
    """The nucleus build or Java is missing, or the nucleus would not start."""


def nucleus_home() -> Path:
    """``PULUMI_DDA_NUCLEUS_HOME``, else the first ``shared/greengrass-nucleus`` above this
    checkout, else above the checkout it was cloned from (a clone made elsewhere, as CI's)."""
    given = os.environ.get("PULUMI_DDA_NUCLEUS_HOME")
    candidates = [Path(given)] if given else []
    here = Path(__file__).resolve().parent
    for start in (here, *_origin_checkout(here)):
        candidates += [p / "shared" / "greengrass-nucleus" for p in (start, *start.parents)]
    for home in candidates:
        if (home / "start-nucleus.sh").is_file():
            return home
    raise NucleusUnavailable(
        "the Greengrass nucleus build was not found: set PULUMI_DDA_NUCLEUS_HOME to the folder "
        "holding start-nucleus.sh (../shared/greengrass-nucleus)"
    )


@dataclass
class InstallRequest:
    """One local deployment: what the device should run afterwards and the files it needs."""

    deployment_id: str
    merge: dict[str, str]
    remove: list[str]
    recipes: dict[str, bytes]
    """file name (``<name>-<version>.json``) -> recipe"""
    artifacts: dict[str, bytes]
    """path under the artifact dir (``<name>/<version>/<file>``) -> bytes"""
    failure_policy: str = "ROLLBACK"


@dataclass
class InstallResult:
    """What the nucleus reported for one local deployment."""

    status: str
    at: float
    detailed_status: str = ""
    error_stack: list[str] = field(default_factory=list)
    error_types: list[str] = field(default_factory=list)
    cause: str = ""
    components: dict[str, tuple[str, str]] = field(default_factory=dict)
    """name -> (version, lifecycle state) of every component ``component list`` printed"""
    nucleus_id: str = ""

    @property
    def reason(self) -> str:
        return ": ".join(p for p in (self.detailed_status, self.cause) if p)


def parse_status(text: str) -> InstallResult:
    """``deployment status`` output: ``<id>: FAILED``, then ``Key: value`` lines."""
    found = _STATUS.search(text)
    fields = dict(
        (k.strip(), v.strip())
        for k, sep, v in (line.partition(":") for line in text.splitlines()[1:])
        if sep
    )

    def listed(key: str) -> list[str]:
        return [v.strip() for v in fields.get(key, "").split(",") if v.strip()]

    return InstallResult(
        status=found.group(1) if found else "UNKNOWN",
        at=0.0,
        detailed_status=fields.get("Detailed Status", ""),
        error_stack=listed("Deployment Error Stack"),
        error_types=listed("Deployment Error Types"),
        cause=fields.get("Deployment Failure Cause", ""),
    )


def parse_component_list(text: str) -> dict[str, tuple[str, str]]:
    """``component list`` output: blocks of ``Component Name``, ``Version``, ``State``."""
    found: dict[str, tuple[str, str]] = {}
    name = version = ""
    for line in text.splitlines():
        key, _, value = line.strip().partition(": ")
        if key == "Component Name":
            name, version = value.strip(), ""
        elif key == "Version":
            version = value.strip()
        elif key == "State" and name:
            found[name] = (version, value.strip())
    return found


class NucleusRuntime:
    """One nucleus process for one device; installs run one at a time on a worker thread."""

    def __init__(self, thing_name: str, clock: Callable[[], float] = time.time) -> None:
        self.thing_name = thing_name
        self.clock = clock
        self.root: Path | None = None
        self.pid: int | None = None
        self.pgid: int | None = None
        self.results: dict[str, InstallResult] = {}
        self._lock = threading.Lock()
        self._stopped = False
        self._queue: queue.Queue[InstallRequest | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # Process ----------------------------------------------------------------------------------

    def _start(self) -> Path:
        if self.root is not None:
            return self.root
        if self._stopped:
            raise NucleusUnavailable(f"the nucleus of {self.thing_name} was stopped")
        home = nucleus_home()
        if shutil.which("java") is None:
            raise NucleusUnavailable("java is not on PATH; the Greengrass nucleus needs Java 11+")
        base = Path(tempfile.mkdtemp(prefix="pulumi-dda-nucleus-"))
        root = base / "gg"
        bin_dir = base / "dda-bin"
        bin_dir.mkdir()
        shim = bin_dir / "python3"
        python = shutil.which("python3") or sys.executable
        shim.write_text(
            "#!/bin/sh\n# DDA's /aws_dda scripts are stand-ins here (pulumi_dda.local nucleus.py)\n"
            f'case "$1" in /aws_dda/*) exec "{python}" "{STANDIN}" "$@";; esac\n'
            f'exec "{python}" "$@"\n'
        )
        shim.chmod(0o755)
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "DDA_STANDIN_ROOT": str(base / "aws_dda"),
        }
        self.root = root
        java = _prepare_root(home, root, self.thing_name)
        with (root / "nucleus.out").open("wb") as out:
            process = subprocess.Popen(
                java, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        with self._lock:  # its own process group: its components are in it too
            self.pgid, self.pid, self._process = process.pid, process.pid, process
            stopped = self._stopped
        if stopped:  # stop() came while this was starting: it saw no process to kill
            self.stop()
            raise NucleusUnavailable(f"the nucleus of {self.thing_name} was stopped")
        deadline = time.monotonic() + START_LIMIT
        while process.poll() is None and time.monotonic() < deadline:
            if (root / "bin" / "greengrass-cli").exists() and not self._call(
                root, "component", "list"
            ).returncode:
                return root
            time.sleep(0.5)
        self.stop()
        raise NucleusUnavailable(
            f"the nucleus of {self.thing_name} did not start within {START_LIMIT:g} s "
            f"(exit status {process.poll()}); see {root}/nucleus.out"
        )

    def stop(self) -> None:
        """Kill the nucleus (its whole process group) and remove its root. Idempotent."""
        with self._lock:
            self._stopped = True
            pgid, root, process = self.pgid, self.root, self._process
            self.pgid = self.pid = self._process = None
        self._queue.put(None)
        if pgid is not None:
            _kill_group(pgid)
        if process is not None:
            process.wait(timeout=10)  # reaped: no zombie left
        if root is not None:
            shutil.rmtree(root.parent, ignore_errors=True)

    # CLI ----------------------------------------------------------------------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``greengrass-cli ARGS`` against this device's nucleus (started if need be)."""
        return self._call(self._start(), *args)

    @staticmethod
    def _call(root: Path, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "JDK_JAVA_OPTIONS": CLI_JVM_OPTIONS}
        return subprocess.run(
            [str(root / "bin" / "greengrass-cli"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )

    # Installs -----------------------------------------------------------------------------------

    def submit(self, request: InstallRequest) -> None:
        """Install in the background, one request after the other; the result appears in
        :attr:`results` under the request's deployment id."""
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name=f"nucleus-{self.thing_name}", daemon=True
                )
                self._worker.start()
        self._queue.put(request)

    def _work(self) -> None:
        while True:
            request = self._queue.get()
            if request is None:
                return
            try:
                result = self.install(request)
            except Exception as exc:  # reported as the device's failure, never raised here
                result = InstallResult(
                    "FAILED", self.clock(), "FAILED_NO_STATE_CHANGE", [], [], str(exc)
                )
            self.results[request.deployment_id] = result

    def install(self, request: InstallRequest) -> InstallResult:
        """Hand ``request`` to the nucleus as a local deployment and wait for its result."""
        root = self._start()
        work = Path(tempfile.mkdtemp(prefix="deploy-", dir=root.parent))
        recipe_dir, artifact_dir = work / "recipes", work / "artifacts"
        recipe_dir.mkdir()
        artifact_dir.mkdir()
        for name, body in request.recipes.items():
            (recipe_dir / name).write_bytes(body)
        for relative, data in request.artifacts.items():
            path = artifact_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        args = ["deployment", "create", "--recipeDir", str(recipe_dir)]
        args += ["--artifactDir", str(artifact_dir), "-fp", request.failure_policy]
        for name, version in sorted(request.merge.items()):
            args += ["--merge", f"{name}={version}"]
        if request.remove:
            args += ["--remove", ",".join(sorted(request.remove))]
        created = self.cli(*args)
        submitted = _SUBMITTED.search(created.stdout)
        if created.returncode != 0 or submitted is None:
            cause = (created.stderr or created.stdout).strip().splitlines()
            return InstallResult(
                "FAILED", self.clock(), "REJECTED", [], [], cause[-1] if cause else "refused"
            )
        nucleus_id = submitted.group(1)
        deadline = time.monotonic() + INSTALL_LIMIT
        while True:
            result = parse_status(self.cli("deployment", "status", "-i", nucleus_id).stdout)
            if result.status not in ("QUEUED", "IN_PROGRESS", "UNKNOWN"):
                break
            if time.monotonic() > deadline:
                result.status, result.cause = "FAILED", f"no result after {INSTALL_LIMIT:g} s"
                break
            time.sleep(STATUS_POLL)
        result.at = self.clock()
        result.nucleus_id = nucleus_id
        result.components = parse_component_list(self.cli("component", "list").stdout)
        shutil.rmtree(work, ignore_errors=True)
        return result


def _prepare_root(home: Path, root: Path, thing_name: str) -> list[str]:
    """What ``start-nucleus.sh`` does before it starts Java (the CLI as a trusted plugin, an
    offline init config), with ``deploymentPollingFrequencySeconds`` at 1: the deployment
    service looks at its queue, and at the deployment it runs, once per that period (documented
    nucleus setting, default 15 s), so every local deployment would otherwise take 15-30 s
    longer. Returns the Java command line."""
    cli_dir = (
        root / "packages/artifacts-unarchived/aws.greengrass.Cli/0.0.0/aws.greengrass.cli.client"
    )
    (root / "plugins/trusted").mkdir(parents=True)
    cli_dir.mkdir(parents=True)
    shutil.copy(home / "cli/CliServer.jar", root / "plugins/trusted/")
    subprocess.run(["unzip", "-qo", str(home / "cli/cliclient.zip")], cwd=cli_dir, check=True)
    user = f"{pwd.getpwuid(os.getuid()).pw_name}:{grp.getgrgid(os.getgid()).gr_name}"
    config = {
        "system": {"rootpath": str(root), "thingName": thing_name},
        "services": {
            "aws.greengrass.Nucleus": {
                "componentType": "NUCLEUS",
                "configuration": {
                    "awsRegion": "us-east-1",
                    "runWithDefault": {"posixUser": user},
                    "logging": {"level": "INFO"},
                    "deploymentPollingFrequencySeconds": DEPLOYMENT_POLLING_SECONDS,
                },
            }
        },
    }
    (root / "init-config.yaml").write_text(json.dumps(config, indent=2))  # JSON is YAML
    jar = home / "GreengrassInstaller/lib/Greengrass.jar"
    return [
        "java", "-XX:TieredStopAtLevel=1", f"-Droot={root}", "-Dlog.store=FILE", "-jar", str(jar),
        "--root", str(root), "--init-config", str(root / "init-config.yaml"),
        "--component-default-user", user, "--setup-system-service", "false",
        "--provision", "false",
    ]  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _kill_group(pgid: int, grace: float = 5.0) -> None:
    """SIGTERM the group (the nucleus runs Shutdown steps), SIGKILL what is left after
    ``grace`` seconds."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in _group_members(pgid)):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields_ = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields_[2]) == pgid:
                members.append(int(entry.name))
    return members


class NucleusPool:
    """The nucleus of every nucleus-backed device of one endpoint, stopped all at once."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._runtimes: dict[tuple[str, str, str], NucleusRuntime] = {}
        self._lock = threading.Lock()
        atexit.register(self.stop_all)  # a process that never stopped its endpoint

    def runtime(self, account_id: str, region: str, thing_name: str) -> NucleusRuntime:
        with self._lock:
            key = (account_id, region, thing_name)
            if key not in self._runtimes:
                self._runtimes[key] = NucleusRuntime(thing_name, self.clock)
            return self._runtimes[key]

    def stop_all(self) -> None:
        with self._lock:
            runtimes, self._runtimes = list(self._runtimes.values()), {}
        for runtime in runtimes:
            runtime.stop()

    def running(self) -> list[int]:
        """Process ids of the nuclei that run now."""
        with self._lock:
            return [r.pid for r in self._runtimes.values() if r.pid is not None]
