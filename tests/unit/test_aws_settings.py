"""Stack config ``aws:region`` / ``aws:profile`` and the ``region`` / ``role_arn`` inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_dda.aws import AwsSettings, ClientCache, session_for
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


def test_the_calls_of_one_provider_share_clients_per_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One client per settings for the provider's life (a client per call cost a preview of
    50 components most of its time); the session name only counts with a role, whose assumed
    credentials are used for a limited time."""
    provider = _configured({"aws:region": "eu-west-1"})
    first = provider.clients({"owner": "proj/dev/a"})
    assert provider.clients({"owner": "proj/dev/b"}) is first  # no role: the name is unused
    assert provider.clients({"owner": "proj/dev/a", "region": "us-west-2"}) is not first
    assert _configured({"aws:region": "eu-west-1"}).clients({"owner": "proj/dev/a"}) is not first
    role = {"role_arn": "arn:aws:iam::111111111111:role/r"}
    assumed = provider.clients({"owner": "proj/dev/a", **role})
    assert provider.clients({"owner": "proj/dev/a", **role}) is assumed
    assert provider.clients({"owner": "proj/dev/b", **role}) is not assumed
    monkeypatch.setattr(ClientCache, "ASSUMED_REUSE_SECONDS", 0.0)
    assert provider.clients({"owner": "proj/dev/a", **role}) is not assumed
    assert provider.clients({"owner": "proj/dev/b"}) is first
