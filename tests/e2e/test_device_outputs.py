"""The documented device bring-up commands yield certificates, under the real engine and CLI.

README and docs/operations.md tell an operator to write the device certificate with
``pulumi stack output devices --json | jq -r '."<thing>".certificatePem' > device.pem.crt`` (and
the claim certificate from ``fleetProvisioning``). pulumi-aws marks ``certificatePem`` secret
(``additional_secret_outputs`` in its Python SDK), the engine keeps that mark on whatever is
built from it, and ``pulumi stack output`` prints a nested secret as ``[secret]``: the command
would write that text. Pulumi's mocks apply no ``additional_secret_outputs``, so only the real
engine and CLI show it. The pulumi-aws plugin itself is a stand-in (``aws_standin/``) that
signs the CSRs on the local endpoint; the secret marking does not come from it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from e2e_harness import REGION, copy_repo_project, make_stack

STANDIN = Path(__file__).parent / "aws_standin"
THING = "dda-e2e-x86-01"
FLEET_PREFIX = "dda-e2e-fleet-"


def _csr(common_name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    request = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return request.public_bytes(Encoding.PEM).decode()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's project whose runtime uses this test's virtualenv."""
    return copy_repo_project(tmp_path / "project")


def _managed_config(model: dict[str, Any]) -> dict[str, Any]:
    return {
        "aws:region": REGION,
        "pulumi-dda:artifactBucket": "edge-artifacts",
        "pulumi-dda:devices": {"x86_64-cpu": [THING], "jetson-xavier": []},
        "pulumi-dda:certificateRequests": {THING: _csr(THING)},
        "pulumi-dda:fleetProvisioning": {
            "thingNamePrefix": FLEET_PREFIX,
            "claimCertificateRequest": _csr("dda-e2e-claim"),
        },
        "pulumi-dda:nucleusVersion": "2.12.0",
        "pulumi-dda:greengrassCli": {"componentVersion": "2.12.0"},
        "pulumi-dda:model": model,
    }


def _stack_output(pulumi: Path, project: Path, env: dict[str, str], name: str) -> Any:
    """``pulumi stack output <name> --json``, exactly as README documents it."""
    done = subprocess.run(
        [str(pulumi), "stack", "output", name, "--json", "--stack", "devices"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def test_documented_output_commands_write_pem_certificates(
    project: Path, env: dict[str, str], engine: Path, model_config: dict[str, Any]
) -> None:
    env = {
        **env,
        "PATH": f"{STANDIN}{os.pathsep}{env['PATH']}",
        "DDA_STANDIN_PYTHON": sys.executable,
    }
    stack = make_stack(project, "devices", env, engine, _managed_config(model_config))
    stack.up()

    pulumi = engine / "bin" / "pulumi"
    devices = _stack_output(pulumi, project, env, "devices")
    # jq -r '."<thing>".certificatePem' > device.pem.crt
    device_pem = devices[THING]["certificatePem"]
    assert device_pem != "[secret]", "stack output masks the certificate"
    certificate = x509.load_pem_x509_certificate(device_pem.encode())
    common_name = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert common_name == THING

    fleet = _stack_output(pulumi, project, env, "fleetProvisioning")
    assert fleet["claimCertificatePem"] != "[secret]", "stack output masks the claim certificate"
    # jq -r '.claimCertificatePem' > claim.pem.crt
    claim = x509.load_pem_x509_certificate(fleet["claimCertificatePem"].encode())
    assert claim.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "dda-e2e-claim"
    assert fleet["claimClientIdPrefix"] == "dda-claim-"

    # The nucleus config the same command line writes names what DDA's LocalServer reads.
    config = yaml.safe_load(devices[THING]["nucleusConfig"])
    assert config["system"]["certificateFilePath"].endswith("/device.pem.crt")
    assert config["system"]["privateKeyPath"].endswith("/private.pem.key")
    stack.destroy()
