"""``dedi`` command line: demo, fetch, build, dev."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipeline.config import PROJECT_ROOT, paths


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.demo import generate

    raw = Path(args.raw_dir) if args.raw_dir else paths().raw
    try:
        files = generate(raw)
    except FileExistsError as exc:
        print(f"dedi demo: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} SYNTHETIC demo files under {raw}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from pipeline.fetch import FetchError, all_specs, fetch_all
    from pipeline.rawdir import RawDirError, require_not_demo

    raw = Path(args.raw_dir) if args.raw_dir else paths().raw
    try:
        require_not_demo(raw, "fetching official files")
    except RawDirError as exc:
        print(f"dedi fetch: {exc}", file=sys.stderr)
        return 2
    specs = all_specs(args.source)
    if not specs:
        print(f"no fetch spec matches {args.source}", file=sys.stderr)
        return 2
    try:
        fetch_all(specs, raw, base_url=args.base_url, force=args.force)
    except FetchError as exc:
        print(f"dedi fetch: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from pipeline.build import BuildLocked, run_build
    from pipeline.rawdir import RawDirError, require_buildable

    p = paths()
    try:
        state = require_buildable(p.raw)  # before anything is created
    except RawDirError as exc:
        print(f"dedi build: {exc}", file=sys.stderr)
        return 2
    print(f"dedi build: raw={p.raw} ({'SYNTHETIC demo' if state.kind == 'demo' else 'real'} "
          f"files: {len(state.synthetic) + len(state.real)}) staging={p.staging} "
          f"marts={p.marts}", file=sys.stderr)
    try:
        outcome = run_build(quiet=args.quiet)
    except BuildLocked as exc:
        print(f"dedi build: {exc}", file=sys.stderr)
        return 3
    except RawDirError as exc:
        print(f"dedi build: {exc}", file=sys.stderr)
        return 2
    if not outcome.success:
        print("\nBUILD FAILED - published marts were left unchanged:", file=sys.stderr)
        for f in outcome.failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    import json

    manifest = json.loads((outcome.marts_dir / "manifest.json").read_text(encoding="utf-8"))
    print(f"published marts in {outcome.marts_dir} (data status: {manifest['data_status']})")
    for table, n in manifest["row_counts"].items():
        print(f"  {table:<24} {n:>8,} rows")
    if manifest.get("warning"):
        print(f"  WARNING: {manifest['warning']}")
    print(f"  query them: duckdb {outcome.marts_dir / 'dedi.duckdb'}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    """Compare the published DX, DEDI and IMD with a reference; publish ``validation``."""
    from pipeline.validate_cli import run_validate

    try:
        return run_validate(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"dedi validate: {exc}", file=sys.stderr)
        return 1


def _cmd_dev(args: argparse.Namespace) -> int:
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    extra = [a for a in args.extra if a != "--"]
    beside = Path(sys.executable).with_name("dagster")  # the venv's, even if not activated
    exe = str(beside) if beside.exists() else "dagster"
    os.execvp(exe, [exe, "dev", "-m", "pipeline.definitions", *extra])
    return 0  # pragma: no cover


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dedi`` console script."""
    ap = argparse.ArgumentParser(prog="dedi", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("demo", help="write the deterministic SYNTHETIC demo raw files")
    d.add_argument("--raw-dir", help="target raw folder (default DEDI_RAW_DIR or data/raw); "
                   "must be empty or hold an earlier demo")
    d.set_defaults(func=_cmd_demo)
    f = sub.add_parser("fetch", help="download the official files with checksums and provenance")
    f.add_argument("source", nargs="*", help="sources to fetch (default: all)")
    f.add_argument("--raw-dir")
    f.add_argument("--base-url", help="mirror to fetch from instead of the official hosts")
    f.add_argument("--force", action="store_true", help="download even if the file exists")
    f.set_defaults(func=_cmd_fetch)
    b = sub.add_parser("build", help="materialise all assets and publish the marts")
    b.add_argument("--quiet", action="store_true", help="no progress lines")
    b.set_defaults(func=_cmd_build)
    r = sub.add_parser("validate", help="compare DX, DEDI and the IMD with an external LSOA "
                       "reference; adds the results (table validation + a calibration PNG) to "
                       "the published marts")
    r.add_argument("--reference", required=True, help="CSV or parquet, LSOA 2011 or 2021 codes")
    r.add_argument("--column", required=True, help="the reference measure (higher = more "
                   "excluded unless --direction -1)")
    r.add_argument("--code-column", help="LSOA code column (found by name if omitted)")
    r.add_argument("--group-column", help="a column defining a binary group (for the AUC)")
    r.add_argument("--group-values", nargs="+", default=[], help="values of --group-column "
                   "that mark a group member")
    r.add_argument("--direction", type=int, choices=[1, -1], default=1)
    r.add_argument("--name", help="name of the reference in the validation table")
    r.set_defaults(func=_cmd_validate)
    v = sub.add_parser("dev", help="open the Dagster UI (dagster dev) on these definitions")
    v.add_argument("extra", nargs=argparse.REMAINDER)
    v.set_defaults(func=_cmd_dev)
    args, unknown = ap.parse_known_args(argv)
    if args.cmd == "dev":
        args.extra = unknown + args.extra
    elif unknown:
        ap.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
