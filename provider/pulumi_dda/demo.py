"""``pulumi-dda demo``: the main job on generated sample artifacts.

Writes a synthetic trained model and two compiled models under ``out/demo/inputs`` and runs the
three phases on them, printing the same JSON summary as ``pulumi-dda build``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from . import cli, samples


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="pulumi-dda demo")
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    args = parser.parse_args(list(argv))
    inputs = args.out / "inputs"
    trained = samples.write_trained_model(inputs / "trained" / "model.tar.gz")
    x86 = samples.write_compiled_model(inputs / "x86_64-cpu" / "model.tar.gz", seed=1)
    arm = samples.write_compiled_model(inputs / "jetson-xavier" / "model.tar.gz", seed=2)
    return cli.main(
        [
            "build",
            "--trained", str(trained),
            "--compiled", f"x86_64-cpu={x86}",
            "--compiled", f"jetson-xavier={arm}",
            "--component-name", "model-defect-classifier",
            "--component-version", "1.0.0",
            "--friendly-name", "Defect classifier",
            "--bucket", "edge-artifacts",
            "--out", str(args.out / "build"),
        ]
    )  # fmt: skip
