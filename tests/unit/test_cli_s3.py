"""The CLI reading ``s3://`` sources through the standard AWS environment (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pulumi_dda import samples
from pulumi_dda.artifacts import RELEASED_TAG
from pulumi_dda.local import LocalEndpoint


def test_build_from_s3_sources_matches_the_local_build(tmp_path: Path) -> None:
    trained = samples.write_trained_model(tmp_path / "t.tar.gz")
    compiled = samples.write_compiled_model(tmp_path / "c.tar.gz", seed=3, target="arm64-cpu")
    with LocalEndpoint() as ep:
        s3 = ep.client("s3")
        s3.create_bucket(Bucket="ml-models")
        s3.upload_file(str(trained), "ml-models", "train/model.tar.gz")
        s3.upload_file(str(compiled), "ml-models", "neo/model.tar.gz")
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": ep.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
        }

        def build(
            trained_src: str, compiled_src: str, out: str
        ) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [
                    sys.executable, "-m", "pulumi_dda.cli", "build",
                    "--trained", trained_src, "--compiled", f"arm64-cpu={compiled_src}",
                    "--component-name", "model-d", "--component-version", "1.0.0",
                    "--bucket", "edge", "--out", str(tmp_path / out),
                ],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip

        remote = build("s3://ml-models/train/model.tar.gz", "s3://ml-models/neo/model.tar.gz", "r")
        local = build(str(trained), str(compiled), "l")
        missing = build("s3://ml-models/absent.tar.gz", str(compiled), "m")
    assert remote.returncode == 0, remote.stderr
    digest = json.loads(remote.stdout)["components"]["arm64-cpu"]["digest"]
    assert digest == json.loads(local.stdout)["components"]["arm64-cpu"]["digest"]
    assert missing.returncode == 1
    assert "s3://ml-models/absent.tar.gz" in missing.stderr
    assert "looking up s3://ml-models/absent.tar.gz: 404: Not Found" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_publish_creates_deployable_versions_and_a_failure_leaves_only_a_released_package(
    tmp_path: Path,
) -> None:
    from pulumi_dda.local.local_server import seed_local_servers

    trained = samples.write_trained_model(tmp_path / "t.tar.gz")
    compiled = samples.write_compiled_model(tmp_path / "c.tar.gz", seed=4)
    with LocalEndpoint() as ep:
        seed_local_servers(ep.client("greengrassv2"))
        s3, gg = ep.client("s3"), ep.client("greengrassv2")
        s3.create_bucket(Bucket="edge")
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": ep.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/dev/null",
        }

        def publish(*extra: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [
                    sys.executable, "-m", "pulumi_dda.cli", "publish",
                    "--trained", str(trained), "--compiled", f"x86_64-cpu={compiled}",
                    "--component-name", "model-d", "--bucket", "edge",
                    "--region", "us-east-1", *extra,
                ],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip

        done = publish("--tag", "team=vision")
        assert done.returncode == 0, done.stderr
        component = json.loads(done.stdout)["components"]["x86_64-cpu"]
        described = gg.describe_component(arn=component["arn"])
        assert described["status"]["componentState"] == "DEPLOYABLE"
        assert component["component_version"] == "1.0.0"
        tags = gg.list_tags_for_resource(resourceArn=component["arn"])["tags"]
        assert tags["team"] == "vision"
        assert tags["pulumi-dda:owner"] == "pulumi-dda-cli/model-d"

        again = publish()  # identical: the same version, nothing new
        assert json.loads(again.stdout)["components"]["x86_64-cpu"]["arn"] == component["arn"]

        ep.inject_fault("CreateComponentVersion", "InternalServerException", count=20)
        keys_before = {o["Key"] for o in s3.list_objects_v2(Bucket="edge")["Contents"]}
        other = samples.write_compiled_model(tmp_path / "o.tar.gz", seed=5)
        failed = subprocess.run(
            [
                sys.executable, "-m", "pulumi_dda.cli", "publish",
                "--trained", str(trained), "--compiled", f"x86_64-cpu={other}",
                "--component-name", "model-d", "--bucket", "edge", "--region", "us-east-1",
            ],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert failed.returncode == 1
        assert (
            failed.stderr.strip()
            .splitlines()[-1]
            .startswith("pulumi-dda: error: target x86_64-cpu: creating the component version:")
        )
        assert "Traceback" not in failed.stderr
        # Its package stays, tagged released: deleted after the grace period (artifacts.py).
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="edge")["Contents"]}
        assert len(keys - keys_before) == 1
        for key in keys - keys_before:
            tags = s3.get_object_tagging(Bucket="edge", Key=key)["TagSet"]
            assert [t["Key"] for t in tags] == [RELEASED_TAG]
