"""Stack config ``aws:region`` / ``aws:profile`` and the ``region`` / ``role_arn`` inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_dda.aws import AwsSettings, session_for
from pulumi_dda.model_component import DdaModelComponentProvider


def _configured(config: dict[str, str]) -> DdaModelComponentProvider:
    provider = DdaModelComponentProvider()
    provider.configure(ConfigureRequest(Config(config, "pulumi-dda")))
    return provider


def test_stack_config_sets_region_and_profile_and_inputs_win() -> None:
    provider = _configured({"aws:region": "eu-west-1", "aws:profile": "factory"})
    props = {"owner": "proj/dev/model", "role_arn": "arn:aws:iam::111111111111:role/r"}
    assert provider.clients(props).settings == AwsSettings(
        region="eu-west-1",
        profile="factory",
        role_arn="arn:aws:iam::111111111111:role/r",
        session_name="pulumi-dda-proj-dev-model",
    )
    assert provider.clients({**props, "region": "us-west-2"}).settings.region == "us-west-2"


def test_a_profile_from_the_aws_config_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile factory]\nregion = ap-southeast-2\n"
        "aws_access_key_id = AKIAFACTORY\naws_secret_access_key = secret\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    session = session_for(AwsSettings(profile="factory"))
    assert session.region_name == "ap-southeast-2"
    credentials = session.get_credentials()
    assert credentials is not None
    assert credentials.access_key == "AKIAFACTORY"
