"""The main job on built-in sample data: the ``local`` stack, end to end, offline.

``make demo`` runs this. It starts the local AWS endpoint (Greengrass v2 served by
pulumi-dda, S3/IoT/IAM/STS by moto), creates what the ``local`` stack takes as existing (the
model and artifact buckets, one thing group per platform and its things as simulated core
devices, the canary child groups, and stand-ins for DDA's LocalServer components that every
model recipe depends on), generates sample trained and compiled models and uploads them, then
runs the real Pulumi CLI on the repository's project:

1. ``pulumi up`` of the ``local`` stack: the model reaches every device (``up`` waits for them
   and prints how long it took), then a preview that must show no changes;
2. a bad model: a retrained x86 model that the canary device fails to install. Its preview
   names the stages; its ``up`` stops at the canary, reverts it and fails, and the rest of the
   line never sees it; ``pulumi-dda rollback --dry-run`` shows the stack-file change that
   pins the model the devices still run;
3. ``pulumi destroy``.

State lives in ``.state/demo`` (a file backend, recreated on every run) because the endpoint's
AWS state lives only as long as the demo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import yaml

from pulumi_dda import samples
from pulumi_dda.local import AdminClient, LocalEndpoint
from pulumi_dda.local.local_server import seed_local_servers
from pulumi_dda.sources import parse_s3_uri

REPO = Path(__file__).resolve().parents[1]
STACK = "local"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def stack_config(stack: str = STACK) -> dict[str, Any]:
    """The stack file's config with the project namespace stripped (``model``, ``devices``...)."""
    raw = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {
        key.split(":", 1)[1] if key.startswith("pulumi-dda:") else key: v for key, v in raw.items()
    }


DEVICE_DELAY = 1.0
"""Seconds a simulated device takes to install a deployment."""


def group_name(target: str) -> str:
    return f"dda-{target.replace('_', '-')}"


def canary_name(target: str) -> str:
    return f"{group_name(target)}-canary"


def bootstrap(endpoint_url: str, config: dict[str, Any], work: Path, seed: int = 0) -> None:
    """Create what the stack takes as existing and upload sample models to the config's URIs.

    In a real account the LocalServer components are published from the DDA repository first
    (see docs/operations.md); here ``local_server.py`` publishes stand-ins of version 1.0.0.
    """
    region = config["aws:region"]
    session = boto3.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    s3 = session.client("s3", endpoint_url=endpoint_url)
    iot = session.client("iot", endpoint_url=endpoint_url)
    model = config["model"]
    uris = [model["trainedModelUri"], *model["compiledModels"].values()]
    for bucket in {config["artifactBucket"], *(parse_s3_uri(u)[0] for u in uris)}:
        s3.create_bucket(Bucket=bucket)
    for bucket in {parse_s3_uri(u)[0] for u in uris}:
        # Training output is versioned, so promote and rollback can name what ran.
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    canaries = (config.get("rollout") or {}).get("canary") or {}
    admin = AdminClient(endpoint_url)
    for target, things in config["devices"].items():
        group = group_name(target)
        iot.create_thing_group(thingGroupName=group)
        if target in canaries:
            iot.create_thing_group(thingGroupName=canary_name(target), parentGroupName=group)
        for thing in things:
            groups = [group, *([canary_name(target)] if thing in canaries.get(target, []) else [])]
            admin.add_core_device(thing, thing_groups=groups, delay=DEVICE_DELAY)
    seed_local_servers(session.client("greengrassv2", endpoint_url=endpoint_url))
    upload_models(s3, model, work, seed)


def upload_models(s3: Any, model: dict[str, Any], work: Path, seed: int = 0) -> None:
    trained = samples.write_trained_model(work / "trained.tar.gz")
    s3.upload_file(str(trained), *parse_s3_uri(model["trainedModelUri"]))
    for index, (target, uri) in enumerate(sorted(model["compiledModels"].items())):
        path = samples.write_compiled_model(
            work / f"{target}.tar.gz", seed=seed * 100 + index, target=target
        )
        s3.upload_file(str(path), *parse_s3_uri(uri))


def engine_bin() -> Path:
    out = subprocess.run(
        ["bash", str(REPO / "tools" / "pulumi" / "build.sh")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Path(out.strip().splitlines()[-1])


def pulumi_env(endpoint_url: str, state: Path, region: str, bin_dir: Path) -> dict[str, str]:
    uv = shutil.which("uv")
    path = [str(bin_dir), *([str(Path(uv).parent)] if uv else []), os.environ["PATH"]]
    return {
        **os.environ,
        **CREDENTIALS,
        "PATH": ":".join(path),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": "local-demo",
        "PULUMI_HOME": str(state / "home"),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }


def _pulumi(env: dict[str, str], *args: str, capture: bool = False, check: bool = True) -> str:
    print(f"\n$ pulumi {' '.join(args)}", flush=True)
    result = subprocess.run(
        ["pulumi", *args, "--stack", STACK],
        cwd=REPO,
        env=env,
        check=check,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    if not check and result.returncode == 0:
        raise SystemExit("expected this command to fail")
    return result.stdout or ""


def fleet(ep: LocalEndpoint, config: dict[str, Any]) -> dict[str, str]:
    """Device -> the model version it runs (``ListInstalledComponents``)."""
    gg = ep.client("greengrassv2")
    prefix = config["model"]["componentName"]
    found = {}
    for things in config["devices"].values():
        for thing in things:
            listed = gg.list_installed_components(coreDeviceThingName=thing)
            found[thing] = ", ".join(
                f"{c['componentName']} {c['componentVersion']}"
                for c in listed["installedComponents"]
                if c["componentName"].startswith(prefix)
            )
    return found


def _show_fleet(ep: LocalEndpoint, config: dict[str, Any]) -> None:
    for thing, runs in fleet(ep, config).items():
        print(f"  {thing}: {runs or 'nothing'}")


def bad_model(ep: LocalEndpoint, config: dict[str, Any], work: Path) -> str:
    """A retrained x86 model at the same key, which the canary device fails to install."""
    model = config["model"]
    changed = samples.write_compiled_model(work / "bad-x86.tar.gz", seed=99)
    ep.client("s3").upload_file(str(changed), *parse_s3_uri(model["compiledModels"]["x86_64-cpu"]))
    component = f"{model['componentName']}-x86-64-cpu"
    canary = config["rollout"]["canary"]["x86_64-cpu"][0]
    ep.add_core_device(canary, outcome="fail", fail_on=[f"{component}@2.0.0"])
    return canary


def main() -> int:
    config = stack_config()
    state = REPO / ".state" / "demo"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    bin_dir = engine_bin()
    with LocalEndpoint(region=config["aws:region"]) as ep, tempfile.TemporaryDirectory() as work:
        print(f"local AWS endpoint at {ep.url}", flush=True)
        bootstrap(ep.url, config, Path(work))
        env = pulumi_env(ep.url, state, config["aws:region"], bin_dir)
        subprocess.run(["pulumi", "stack", "init", STACK], cwd=REPO, env=env, check=True)
        try:
            started = time.monotonic()
            _pulumi(env, "up", "--yes", "--non-interactive")
            took = time.monotonic() - started
            print(f"\nup took {took:.1f} s, waiting for the devices; they run:", flush=True)
            _show_fleet(ep, config)
            _pulumi(env, "preview", "--expect-no-changes", "--non-interactive")
            outputs = json.loads(_pulumi(env, "stack", "output", "--json", capture=True))
            print(json.dumps(outputs, indent=2))

            canary = bad_model(ep, config, Path(work))
            print(f"\nA retrained x86 model that {canary} (the canary) fails to install:")
            _pulumi(env, "preview", "--non-interactive")
            _pulumi(env, "up", "--yes", "--non-interactive", check=False)
            print("\nThe canary was reverted and the rest of the line never saw it:", flush=True)
            _show_fleet(ep, config)
            subprocess.run(
                [sys.executable, "-m", "pulumi_dda.cli", "rollback", "--stack", STACK],
                cwd=REPO,
                env=env,
                check=True,
            )
            _pulumi(env, "up", "--yes", "--non-interactive")
            print("\nAfter the rollback's up, the devices run:", flush=True)
            _show_fleet(ep, config)
        finally:
            _restore_stack_file()
            _pulumi(env, "destroy", "--yes", "--non-interactive")
            _pulumi(env, "stack", "rm", "--yes", "--force", "--preserve-config")
    return 0


_STACK_FILE = REPO / "stacks" / f"Pulumi.{STACK}.yaml"
_ORIGINAL = _STACK_FILE.read_text()


def _restore_stack_file() -> None:
    """The rollback wrote into the repository's stack file: the demo leaves it as it was."""
    _STACK_FILE.write_text(_ORIGINAL)


if __name__ == "__main__":
    sys.exit(main())
