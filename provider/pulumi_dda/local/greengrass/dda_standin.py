"""Stand-ins for DDA's ``/aws_dda/model_convertor.py`` and ``convert_model_cleanup.py``.

A model component's Startup and Shutdown steps run those scripts (``recipe.build_recipe``);
on a DDA device the LocalServer installs them. On a nucleus-backed device of the local endpoint
(:mod:`.nucleus`) the nucleus's ``python3`` runs this file instead, as
``python3 dda_standin.py /aws_dda/<script> ARGS``. It checks what the real convertor needs
(dda-reference.md, "What the device does with the package"): ``manifest.json`` with a
``model_graph`` in ``--unarchived_model_path``, and a major ``--model_version`` above 0. Then
it records the model in ``$DDA_STANDIN_ROOT/models/<model_name>.json``; the cleanup removes
that record. Exit status 1 with one line on stderr when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _models() -> Path:
    return Path(os.environ.get("DDA_STANDIN_ROOT", "aws_dda")) / "models"


def convert(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="model_convertor.py")
    parser.add_argument("--unarchived_model_path", required=True)
    parser.add_argument("--model_version", required=True)
    parser.add_argument("--model_name", required=True)
    args = parser.parse_args(argv)
    folder = Path(args.unarchived_model_path)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        graph = manifest["model_graph"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"model_convertor: no usable manifest.json in {folder}: {exc}", file=sys.stderr)
        return 1
    major = int(str(args.model_version).split(".")[0])
    if major <= 0:
        print(f"model_convertor: model version {args.model_version} must be > 0", file=sys.stderr)
        return 1
    record = {
        "model_name": args.model_name,
        "model_version": args.model_version,
        "path": str(folder),
        "stages": [s.get("type") for s in graph.get("stages", [])],
        "files": sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()),
    }
    _models().mkdir(parents=True, exist_ok=True)
    (_models() / f"{args.model_name}.json").write_text(json.dumps(record, indent=2))
    return 0


def cleanup(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="convert_model_cleanup.py")
    parser.add_argument("--model_name", required=True)
    args = parser.parse_args(argv)
    (_models() / f"{args.model_name}.json").unlink(missing_ok=True)
    return 0


def main(argv: list[str]) -> int:
    script, rest = (argv[0], argv[1:]) if argv else ("", [])
    if script == "/aws_dda/model_convertor.py":
        return convert(rest)
    if script == "/aws_dda/convert_model_cleanup.py":
        return cleanup(rest)
    print(f"python3: can't open file {script!r}: no such DDA stand-in", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
