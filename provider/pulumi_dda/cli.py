"""The ``pulumi-dda`` command line.

Exit status: 0 on success, 2 for usage errors (argparse), 1 for input or AWS errors, which are
printed as one line on stderr naming the input, member or field (a traceback only with
``--debug``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import publish, samples
from .build import BuildRequest, build_all, read_manifest
from .errors import DdaError
from .package import ArchiveLimits
from .recipe import platform_for


def _compiled_pair(text: str) -> tuple[str, str]:
    target, sep, source = text.partition("=")
    if not sep or not target or not source:
        raise argparse.ArgumentTypeError(f"expected TARGET=SOURCE, got {text!r}")
    return target, source


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulumi-dda", description="Build DDA model components for AWS IoT Greengrass v2."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    manifest = sub.add_parser("manifest", help="print the DDA manifest of a trained model")
    manifest.add_argument("source", help="trained model .tar.gz: local path or s3:// URI")
    manifest.add_argument("--relax-device-checks", action="store_true")

    build = sub.add_parser("build", help="build packages and recipes for each target")
    build.add_argument("--trained", required=True, help="trained model .tar.gz")
    build.add_argument(
        "--compiled",
        required=True,
        action="append",
        type=_compiled_pair,
        metavar="TARGET=SOURCE",
        help="compiled model per target (repeat for several targets)",
    )
    build.add_argument("--component-name", required=True)
    build.add_argument("--component-version", required=True)
    build.add_argument("--friendly-name")
    build.add_argument("--bucket", required=True)
    build.add_argument("--prefix", default="")
    build.add_argument("--no-target-suffix", action="store_true")
    build.add_argument("--relax-device-checks", action="store_true")
    build.add_argument("--max-total-bytes", type=int, default=ArchiveLimits.max_total_bytes)
    build.add_argument("--max-members", type=int, default=ArchiveLimits.max_members)
    build.add_argument(
        "--max-compression-ratio", type=int, default=ArchiveLimits.max_compression_ratio
    )
    build.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="targets built at a time (default: one per core, at most 4)",
    )
    build.add_argument("--out", required=True, type=Path)
    build.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    sample = sub.add_parser("samples", help="write sample trained and compiled model archives")
    sample.add_argument("--out", required=True, type=Path)
    sample.add_argument("--target", action="append", default=None, metavar="TARGET")

    sub.add_parser("local", help="run the local AWS endpoint", add_help=False)
    publish.add_parser(sub, _compiled_pair)
    sub.add_parser(
        "promote",
        help="pin one stack's model block into another's stack file (--from dev --to prod)",
        add_help=False,
    )
    sub.add_parser(
        "rollback",
        help="write a stack's previous good model into its stack file (--stack prod)",
        add_help=False,
    )
    return parser


def _progress(line: str) -> None:
    sys.stderr.write(line + "\n")


def _build(args: argparse.Namespace) -> int:
    compiled: dict[str, str] = {}
    for target, source in args.compiled:
        if target in compiled:
            raise DdaError(f"--compiled: target {target!r} given twice")
        compiled[target] = source
    request = BuildRequest(
        trained_model=args.trained,
        compiled_models=compiled,
        component_name=args.component_name,
        component_version=args.component_version,
        artifact_bucket=args.bucket,
        artifact_prefix=args.prefix,
        friendly_name=args.friendly_name,
        target_suffix=not args.no_target_suffix,
        relax_device_checks=args.relax_device_checks,
        limits=ArchiveLimits(args.max_total_bytes, args.max_members, args.max_compression_ratio),
    )
    progress = (lambda _m: None) if args.quiet else _progress
    if args.workers is not None and args.workers < 1:
        raise DdaError(f"--workers must be at least 1, got {args.workers}")
    manifest, built = build_all(request, args.out, progress=progress, workers=args.workers)
    components = {}
    for target, component in built.items():
        recipe_path = args.out / target / "recipe.json"
        recipe_path.write_text(json.dumps(component.recipe, indent=2) + "\n")
        components[target] = {
            **component.summary(),
            "zip_path": str(component.package.path),
            "recipe_path": str(recipe_path),
        }
    print(json.dumps({"manifest": manifest.manifest, "components": components}, indent=2))
    return 0


def _samples(out: Path, targets: list[str]) -> int:
    written = {"trained": str(samples.write_trained_model(out / "trained" / "model.tar.gz"))}
    for seed, target in enumerate(targets, start=1):
        platform_for(target)
        path = samples.write_compiled_model(out / target / "model.tar.gz", seed=seed, target=target)
        written[target] = str(path)
    print(json.dumps(written, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "local":
        from .local import cli_main

        return int(cli_main(argv[1:]))
    if argv and argv[0] == "promote":
        from . import promote

        return promote.cli_main(argv[1:])
    if argv and argv[0] == "rollback":
        from . import rollback

        return rollback.cli_main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "samples":
            return _samples(args.out, args.target or ["x86_64-cpu", "jetson-xavier"])
        if args.command == "publish":
            print(json.dumps(publish.run(args), indent=2))
            return 0
        if args.command == "manifest":
            result = read_manifest(args.source, relax_device_checks=args.relax_device_checks)
            print(json.dumps(result.manifest, indent=2))
            return 0
        return _build(args)
    except DdaError as exc:
        if args.debug:
            raise
        print(f"pulumi-dda: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
