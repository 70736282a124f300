"""The main job on built-in sample data: the ``local`` stack, end to end, offline.

``make demo`` runs this. It starts the local AWS endpoint (Greengrass v2 served by
pulumi-dda, S3/IoT/IAM/STS by moto), creates what the ``local`` stack takes as existing (the
model and artifact buckets, one thing group per platform and its things, and stand-ins for
DDA's LocalServer components that every model recipe depends on), generates sample trained and
compiled models and uploads them, then runs the real Pulumi CLI on the repository's
project: ``pulumi up`` of the ``local`` stack, a preview that must show no changes, the stack
outputs, and ``pulumi destroy``. State lives in ``.state/demo`` (a file backend, recreated on
every run) because the endpoint's AWS state lives only as long as the demo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import boto3
import yaml

from pulumi_dda import samples
from pulumi_dda.local import LocalEndpoint
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


def group_name(target: str) -> str:
    return f"dda-{target.replace('_', '-')}"


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
    for target, things in config["devices"].items():
        group = group_name(target)
        iot.create_thing_group(thingGroupName=group)
        for thing in things:
            iot.create_thing(thingName=thing)
            iot.add_thing_to_thing_group(thingGroupName=group, thingName=thing)
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


def _pulumi(env: dict[str, str], *args: str, capture: bool = False) -> str:
    print(f"\n$ pulumi {' '.join(args)}", flush=True)
    result = subprocess.run(
        ["pulumi", *args, "--stack", STACK],
        cwd=REPO,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


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
            _pulumi(env, "up", "--yes", "--non-interactive")
            _pulumi(env, "preview", "--expect-no-changes", "--non-interactive")
            outputs = json.loads(_pulumi(env, "stack", "output", "--json", capture=True))
            print(json.dumps(outputs, indent=2))
        finally:
            _pulumi(env, "destroy", "--yes", "--non-interactive")
            _pulumi(env, "stack", "rm", "--yes", "--force", "--preserve-config")
    return 0


if __name__ == "__main__":
    sys.exit(main())
