"""Settings are declared once (``EndpointSettings``) and reach every surface: the constructor,
``configure`` in process and over HTTP, the CLI flags and the README table."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_local_cli import read_line

from pulumi_dda.local import READY_PREFIX, AdminClient, AdminError, LocalEndpoint
from pulumi_dda.local.settings import EndpointSettings, markdown_table

README = Path(__file__).parents[2] / "provider" / "pulumi_dda" / "local" / "README.md"


def _changed() -> dict[str, Any]:
    """A value other than the default for every declared setting."""
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(EndpointSettings):
        default = spec.default
        values[spec.name] = (not default) if isinstance(default, bool) else float(default) + 1.5
    return values


def _flags(values: dict[str, Any]) -> list[str]:
    flags: list[str] = []
    for name, value in values.items():
        flag = name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            flags += [f"--{flag}", repr(value)]
    return flags


def test_the_readme_table_is_the_declaration() -> None:
    text = README.read_text()
    table = r"<!-- settings-table:start -->\n(.*?)<!-- settings-table:end -->"
    found = re.search(table, text, re.S)
    assert found is not None, "local/README.md lost its settings table markers"
    assert found[1] == markdown_table()
    for name in _changed():
        assert f"| `{name}` |" in found[1]


def test_every_setting_is_changed_read_and_reset_through_configure(control: Any) -> None:
    defaults = control.configure()
    assert set(defaults) == set(_changed())
    wanted = _changed()
    assert control.configure(**wanted) == wanted
    assert control.configure() == wanted
    control.reset()
    assert control.configure() == defaults


def test_unknown_names_and_wrong_types_are_refused(ep: LocalEndpoint) -> None:
    admin = AdminClient(ep.url)
    before = ep.configure()
    with pytest.raises(ValueError, match=r"unknown settings \['colour'\]"):
        ep.configure(colour="blue")
    with pytest.raises(AdminError, match="400"):
        admin.configure(colour="blue")
    with pytest.raises(ValueError, match="check_deployment_targets must be true or false"):
        ep.configure(check_deployment_targets=1)
    with pytest.raises(AdminError, match="state_delay must be a number"):
        admin.configure(state_delay="fast")
    with pytest.raises(ValueError, match="state_delay must be >= 0"):
        ep.configure(state_delay=-1, check_deployment_targets=False)
    assert ep.configure() == before, "a refused change must change nothing"


def test_constructor_settings_are_what_reset_returns_to() -> None:
    wanted = _changed()
    endpoint = LocalEndpoint(**wanted)
    endpoint.configure(state_delay=0.0)
    endpoint.reset()
    assert endpoint.configure() == wanted
    with pytest.raises(ValueError, match="unknown settings"):
        LocalEndpoint(stat_delay=1.0)


def test_every_setting_has_a_cli_flag_that_survives_reset() -> None:
    wanted = _changed()
    command = [sys.executable, "-m", "pulumi_dda.local", "--port", "0", *_flags(wanted)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        url = read_line(process, timeout=60)[len(READY_PREFIX) :]
        admin = AdminClient(url)
        admin.wait_ready()
        assert admin.configure() == wanted
        admin.reset()
        assert admin.configure() == wanted
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0
