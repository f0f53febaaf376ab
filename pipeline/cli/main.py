"""``dedi`` command line: demo, fetch, build, validate, sql, explore, report, explain,
evaluate, compare-scenarios, rollback, docs, dev."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pipeline.config import CURRENT, paths


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipeline.demo.generator import generate

    raw = Path(args.raw_dir) if args.raw_dir else paths().raw
    try:
        files = generate(raw)
    except FileExistsError as exc:
        print(f"dedi demo: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(files)} SYNTHETIC demo files under {raw}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from pipeline.inputs.fetch import FetchError, all_specs, fetch_all
    from pipeline.inputs.rawdir import RawDirError, require_not_demo

    unknown = [n for n in args.source if not all_specs([n])]
    if unknown:
        names = sorted({s.source for s in all_specs()} | {s.target.split("/")[0]
                                                          for s in all_specs()})
        print(f"dedi fetch: unknown source(s) {unknown}; valid names: {', '.join(names)}",
              file=sys.stderr)
        return 2
    raw = Path(args.raw_dir) if args.raw_dir else paths().raw
    try:
        require_not_demo(raw, "fetching official files")
    except RawDirError as exc:
        print(f"dedi fetch: {exc}", file=sys.stderr)
        return 2
    specs = all_specs(args.source)
    try:
        fetch_all(specs, raw, base_url=args.base_url, force=args.force, pin=args.pin)
    except FetchError as exc:
        print(f"dedi fetch: {exc}", file=sys.stderr)
        return 1
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from pipeline.inputs.rawdir import RawDirError, require_buildable
    from pipeline.method.spec import SpecError, load_spec, parse_assignments, scenario_for

    if args.raw_dir:
        os.environ["DEDI_RAW_DIR"] = args.raw_dir
    try:  # the spec is checked before any data is read
        sets = parse_assignments(args.set or [])
        spec = load_spec(args.spec, {"set": sets})
        scenario = scenario_for(args.scenario, {"set": sets}, args.spec, spec)
    except SpecError as exc:
        print(f"dedi build: {exc}", file=sys.stderr)
        return 2
    p = paths()
    if scenario:  # a scenario never touches the live staging or marts
        os.environ["DEDI_STAGING_DIR"] = str(p.staging_for(scenario))
    try:
        state = require_buildable(p.raw)  # before anything is created
    except RawDirError as exc:
        print(f"dedi build: {exc}", file=sys.stderr)
        return 2
    marts = p.marts_for(scenario)
    from pipeline.build.locks import BUSY, refuse_if_busy

    try:  # at once, before seconds of loading Dagster
        refuse_if_busy(paths().staging, marts, live=not scenario)
    except BUSY as exc:
        print(f"dedi build: {exc}", file=sys.stderr)
        return 3
    from pipeline.errors import CurrentGuardError
    from pipeline.release.publish import guard_current

    try:  # before anything runs: a demo build never silently replaces real marts
        guard_current(marts, "synthetic" if state.kind == "demo" else "real",
                      replace=args.replace_current, raw=p.raw)
    except CurrentGuardError as exc:
        print(f"dedi build: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"dedi build: raw={p.raw} ({'SYNTHETIC demo' if state.kind == 'demo' else 'real'} "
              f"files: {len(state.synthetic) + len(state.real)}) staging={paths().staging} "
              f"marts={marts}" + (f" (scenario {scenario})" if scenario else ""), file=sys.stderr)
    config = {"scenario": scenario, "set": {k: json.dumps(v) for k, v in sets.items()},
              **({"spec_file": str(Path(args.spec).resolve())} if args.spec else {})
              } if scenario else None
    from pipeline.build.versions import up_to_date

    if not args.full and up_to_date(paths().staging, marts, p.raw, config or {}):
        print(f"up to date: no raw file, code, setting or spec changed since the last build; "
              f"nothing published ({marts}/current is release "
              f"{(marts / CURRENT).resolve().name}; --full rebuilds everything)")
        return 0
    from pipeline.build.tuning.side_process import SideProcess

    with SideProcess() as side:  # it loads GX on the other core while Dagster loads here
        from pipeline.build.run import run_build

        try:
            outcome = run_build(quiet=args.quiet, index_config=config, full=args.full,
                                side=side, replace_current=args.replace_current)
        except BUSY as exc:
            print(f"dedi build: {exc}", file=sys.stderr)
            return 3
        except RawDirError as exc:
            print(f"dedi build: {exc}", file=sys.stderr)
            return 2
    if not outcome.success:
        print("\nBUILD FAILED - published marts were left unchanged:", file=sys.stderr)
        for f in outcome.failures:
            print(f"  {f}", file=sys.stderr)
        _print_warnings(outcome.warnings)
        return 1
    manifest = json.loads((marts / CURRENT / "manifest.json").read_text(encoding="utf-8"))
    if outcome.up_to_date:  # Dagster found nothing stale
        print(f"up to date: nothing stale; nothing published ({marts}/current is release "
              f"{(marts / CURRENT).resolve().name}; --full rebuilds everything)")
        return 0
    print(f"published marts in {marts} (data status: {manifest['data_status']})")
    for table, n in manifest["row_counts"].items():
        print(f"  {table:<24} {n:>8,} rows")
    if manifest.get("warning"):
        print(f"  WARNING: {manifest['warning']}")
    _print_warnings(outcome.warnings)
    where = f" --scenario {scenario}" if scenario else ""
    print(f"  query them (read-only):  uv run dedi sql{where} \"SELECT * FROM v_icb_summary "
          "LIMIT 5\"")
    print(f"  explore them:            uv run dedi explore{where}")
    return 0


def _print_warnings(warnings: list[str]) -> None:
    """The closing summary's warnings: every tolerated problem of the build, one line each."""
    if warnings:
        print(f"{len(warnings)} warning(s): data left out or replaced by a fallback, published "
              "without it:")
        for w in warnings:
            print(f"  ! {w}")


def _cmd_validate(args: argparse.Namespace) -> int:
    """Compare the published DX, DEDI and IMD with a reference; publish ``validation``."""
    from pipeline.cli.validate import run_validate

    try:
        return run_validate(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"dedi validate: {exc}", file=sys.stderr)
        return 1


def _cmd_dev(args: argparse.Namespace) -> int:
    from pipeline.build.run import instance_home
    from pipeline.cli.dev import run

    extra = [a for a in args.extra if a != "--"]
    home = Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else \
        instance_home(paths().staging)
    return run(extra, home)


def _cmd_sql(args: argparse.Namespace) -> int:
    from pipeline.cli import sql as sql_cli

    return sql_cli.main(args.query, args.scenario, args.csv, args.parquet, args.max_rows)


def _cmd_explore(args: argparse.Namespace) -> int:
    from pipeline.outputs.explorer.page import write_explorer

    out = write_explorer(args.scenario, args.area, Path(args.out) if args.out else None,
                         args.hubs)
    print(f"explorer written: {out.resolve()}")
    if args.open:
        import webbrowser

        webbrowser.open(out.resolve().as_uri())
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pipeline.outputs.report.icb import write_reports

    if not args.icb and not args.all:
        print("dedi report: name an ICB (--icb E54000008) or use --all", file=sys.stderr)
        return 2
    for path in write_reports(args.icb, args.scenario, progress=not args.quiet):
        print(path)
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from pipeline.outputs.explain import explain

    print(explain(args.lsoa, args.scenario))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pipeline.outputs.evaluate import run
    from pipeline.outputs.report.html import p_value

    folder, row = run(Path(args.file), outcome=args.outcome, name=args.name,
                      scenario=args.scenario, seed=args.seed, n_boot=args.draws)
    lo, hi = row["ci_low"], row["ci_high"]
    pre = ("not testable (one pre-period)" if row["pretrend_p"] is None
           else f"p = {p_value(row['pretrend_p'])}")
    print(f"{row['outcome_label']} ({row['unit_type']} units): effect {row['effect']:+.3f} "
          f"({lo:+.3f} to {hi:+.3f}, {row['level']:.0%} interval); "
          f"{row['treated_units']} intervention vs {row['comparison_units']} matched comparison "
          f"units; pre-trends {pre}")
    print(f"wrote {folder}/report.html and the evaluation mart ({folder}/evaluation.duckdb)")
    if args.open:
        import webbrowser

        webbrowser.open((folder / "report.html").resolve().as_uri())
    return 0


def _cmd_hubs(args: argparse.Namespace) -> int:
    from pipeline.outputs.hubs import HubsRequest, write_hubs

    req = HubsRequest(area=args.area, k=args.k, radius_km=args.radius_km,
                      candidates=args.candidates, existing=args.existing, demand=args.demand,
                      name=args.name, scenario=args.scenario, travel_times=args.travel_times,
                      max_minutes=args.max_minutes, objective=args.objective)
    folder = write_hubs(req)
    curve = json.loads((folder / "hub_curve.json").read_text(encoding="utf-8"))
    last = curve[-1]
    print(f"{last['k']} hub(s) bring {last['covered_demand']:,.0f} demand within reach "
          f"({100 * last['covered_share']:.1f}% of the area's); "
          + ("proven optimal" if all(c["proven_optimal"] for c in curve) else
             "NOT proven optimal (time limit reached; see the report)"))
    print(f"wrote {folder}/report.html, hub_sites, hub_coverage, hub_curve (hubs.duckdb, "
          f"parquet, json) and interventions.csv")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from pipeline.outputs.scenarios import compare, format_comparison

    result = compare(args.a, args.b)
    print(format_comparison(result, args.a, args.b, limit=args.limit))
    if args.csv:
        result["lsoas"].to_csv(args.csv, index=False)
        print(f"wrote {len(result['lsoas']):,} LSOA rows to {args.csv}")
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    from pipeline.outputs.warehouse import marts_dir
    from pipeline.release.publish import PublishLocked, rollback

    try:
        old, new = rollback(marts_dir(args.scenario))
    except PublishLocked as exc:
        print(f"dedi rollback: {exc}", file=sys.stderr)
        return 3
    print(f"current: {old} -> {new} (run `dedi rollback` again to go further back; the next "
          "build publishes a new release as usual)")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from pipeline.definitions import build_definitions
    from pipeline.release.asset_table import write_asset_docs
    from pipeline.release.dictionary import write_docs

    for path in [*write_docs(args.scenario), write_asset_docs(build_definitions())]:
        print(f"wrote {path}")
    return 0


COMMANDS = {
    "demo": "write the deterministic SYNTHETIC demo raw files (data/raw or --raw-dir)",
    "fetch": "download official files with checksums and provenance",
    "build": "materialise every asset and publish the marts (or a scenario)",
    "validate": "compare DX, DEDI and the IMD with an external LSOA reference",
    "sql": "query the published warehouse read-only (one query, or interactive)",
    "explore": "write the offline HTML explorer (map, weight sliders, postcode search)",
    "report": "write static offline HTML reports for ICBs (maps, league table, top LSOAs)",
    "explain": "print the audit trail behind one LSOA's DX and DEDI rank",
    "evaluate": "did an intervention move an outcome? difference-in-differences against "
                "matched comparison units, with an HTML report",
    "hubs": "where to put k digital health hubs: the sites that bring the most high-risk "
            "residents within reach (exact maximal covering), with a report",
    "compare-scenarios": "list LSOAs and areas whose DEDI decile differs between two scenarios",
    "rollback": "point current back at the previous release (undo the last publication)",
    "docs": "regenerate docs/data_dictionary.md and the README asset table",
    "dev": "open the Dagster UI (dagster dev) on these definitions and the builds' instance; "
           "every option is dagster dev's (-h HOST, -p PORT; --help)",
}


EVALUATE_HELP = """\
input file, one row per intervention unit (CSV or parquet):
  unit_type     lsoa | practice | la       (one type per file)
  unit_code     LSOA 2021 code (E01...), GP practice ODS code (A81001), or LTLA code (E06...)
  start_date    YYYY-MM-DD or YYYY-MM      when the intervention started
  intervention  optional label, e.g. "Library digital health hub"

example:
  unit_type,unit_code,start_date,intervention
  practice,A81001,2026-05-01,Library digital health hub

outcomes (read from the published marts):
  nhs_app_uptake  monthly NHS App uptake (nhs_app_uptake_history / nhs_app_practice_history);
                  the month of the start date is the first post-period
  imd_percentile  IMD 2019 -> 2025 on LSOA 2021 (lsoa_index_history, comparable LSOAs);
                  an intervention counts only if it started before the IoD 2025 reference
                  date (settings.yaml evaluate.iod_reference_dates)

method: each unit is matched to evaluate.comparisons_per_unit never-treated units on the
baseline outcome, exactly within region (or ICB), rurality and DX (or DEDI) decile;
difference-in-differences with an event study, a pre-trend test and a cluster bootstrap
(LTLA for LSOAs, sub-ICB for practices). Settings: settings.yaml `evaluate`.
Writes <marts>/evaluations/NAME/: report.html, evaluation.duckdb (tables evaluation,
evaluation_event_study, evaluation_comparison_set, evaluation_balance, evaluation_dropped),
the same tables as parquet, and evaluation.json. It is descriptive: read the report's caveats.
"""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="dedi", description="DEDI, the Digital-Exclusion-"
                                 "adjusted Deprivation Index: build, query and explore it.")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    def add(name: str, func, add_help: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=COMMANDS[name], description=COMMANDS[name],
                           add_help=add_help)
        p.set_defaults(func=func)
        return p

    def scenario(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scenario", help="read data/marts/scenarios/NAME instead of the live "
                       "marts")

    d = add("demo", _cmd_demo)
    d.add_argument("--raw-dir", help="target raw folder (default DEDI_RAW_DIR or data/raw); "
                   "must be empty or hold an earlier demo")
    f = add("fetch", _cmd_fetch)
    f.add_argument("source", nargs="*", help="sources to fetch (default: all)")
    f.add_argument("--raw-dir", help="target raw folder (default DEDI_RAW_DIR or data/raw)")
    f.add_argument("--base-url", help="mirror to fetch from instead of the official hosts")
    f.add_argument("--force", action="store_true", help="download even if the file exists")
    f.add_argument("--pin", action="store_true", help="record the sha256 of immutable releases "
                   "that have no pin yet in pipeline/sources/pins.json (then commit it)")
    b = add("build", _cmd_build)
    b.add_argument("--raw-dir", help="raw folder to build from (default DEDI_RAW_DIR or data/raw)")
    b.add_argument("--quiet", action="store_true", help="no progress lines")
    b.add_argument("--full", action="store_true", help="rebuild everything from empty staging "
                   "(default: only what changed since the last build)")
    b.add_argument("--scenario", help="publish to data/marts/scenarios/NAME (the live marts are "
                   "untouched)")
    b.add_argument("--replace-current", action="store_true", help="publish even if the current "
                   "marts hold another kind of data (real or the synthetic demo) or another "
                   "coverage; refused by default")
    b.add_argument("--set", action="append", metavar="KEY=VALUE", help="change one index spec "
                   "value, e.g. dedi.dx_weight=0.2 (repeatable; implies a scenario)")
    b.add_argument("--spec", help="a whole index spec file instead of pipeline/config/index_spec.yaml "
                   "(implies a scenario)")
    r = add("validate", _cmd_validate)
    r.add_argument("--reference", required=True, help="CSV or parquet, LSOA 2011 or 2021 codes")
    r.add_argument("--column", required=True, help="the reference measure (higher = more "
                   "excluded unless --direction -1)")
    r.add_argument("--code-column", help="LSOA code column (found by name if omitted)")
    r.add_argument("--group-column", help="a column defining a binary group (for the AUC)")
    r.add_argument("--group-values", nargs="+", default=[], help="values of --group-column "
                   "that mark a group member")
    r.add_argument("--direction", type=int, choices=[1, -1], default=1)
    r.add_argument("--name", help="name of the reference in the validation table")
    q = add("sql", _cmd_sql)
    q.add_argument("query", nargs="?", help="SQL to run; omit for an interactive prompt")
    scenario(q)
    q.add_argument("--csv", metavar="FILE", help="write the result to a CSV file")
    q.add_argument("--parquet", metavar="FILE", help="write the result to a parquet file")
    q.add_argument("--max-rows", type=int, metavar="N", help="rows to show on screen "
                   "(default 40; 0 shows all); --csv and --parquet always write all")
    e = add("explore", _cmd_explore)
    scenario(e)
    e.add_argument("--area", help="one region, ICB or LTLA (code, e.g. E54000008): its own file "
                   "that opens at it; ranks stay national")
    e.add_argument("--out", help="output HTML (default <marts>/explorer/index.html, or "
                   "<marts>/explorer/<level>-<code>.html with --area)")
    e.add_argument("--hubs", metavar="NAME", help="show the sites of `dedi hubs --name NAME` on "
                   "the map")
    e.add_argument("--open", action="store_true", help="open it in the default browser")
    rp = add("report", _cmd_report)
    rp.add_argument("--icb", nargs="+", metavar="CODE", help="ICB 2024 code(s), e.g. E54000008")
    rp.add_argument("--all", action="store_true", help="every ICB")
    rp.add_argument("--quiet", action="store_true", help="no progress lines")
    scenario(rp)
    x = add("explain", _cmd_explain)
    x.add_argument("lsoa", help="an LSOA 2021 code, e.g. E01000001")
    scenario(x)
    ev = sub.add_parser(
        "evaluate", help=COMMANDS["evaluate"], formatter_class=argparse.RawDescriptionHelpFormatter,
        description=COMMANDS["evaluate"] + ".", epilog=EVALUATE_HELP)
    ev.set_defaults(func=_cmd_evaluate)
    ev.add_argument("file", help="the intervention file (CSV or parquet; format below)")
    ev.add_argument("--outcome", choices=["nhs_app_uptake", "imd_percentile"],
                    help="default: nhs_app_uptake when NHS App months are published, else "
                    "imd_percentile (IoD 2019 -> 2025; LSOA and LA units)")
    ev.add_argument("--name", help="output folder name under <marts>/evaluations/ (default: "
                    "the file's name)")
    ev.add_argument("--seed", type=int, help="bootstrap seed (default settings.yaml)")
    ev.add_argument("--draws", type=int, help="bootstrap draws (default settings.yaml, 999)")
    ev.add_argument("--open", action="store_true", help="open the report in the browser")
    scenario(ev)
    h = add("hubs", _cmd_hubs)
    h.add_argument("--area", default="england", help="icb24:CODE, ltla24:CODE, region:CODE or "
                   "england (default)")
    h.add_argument("--k", type=int, default=10, help="number of hubs, existing ones included "
                   "(default 10)")
    h.add_argument("--radius-km", type=float, default=2.0, help="straight-line reach in km "
                   "(default 2)")
    h.add_argument("--candidates", default="lsoa", help="lsoa (every LSOA's point, default), "
                   "gp (open GP practices, placed with the ONS Postcode Directory), schools "
                   "(open GIAS schools), or a venues CSV: site_id, name, type and "
                   "easting/northing, lat/lon or postcode")
    h.add_argument("--existing", help="a venues CSV of hubs already open (always chosen)")
    h.add_argument("--demand", default="dx-deciles:1-3", help="dx-deciles:A-B (residents of "
                   "those national DX deciles, default 1-3), dx-weighted, or a numeric column "
                   "of lsoa_index")
    h.add_argument("--travel-times", help="a travel-time matrix from your routing tool (CSV: "
                   "origin_lsoa21, site_id, minutes) instead of straight-line reach")
    h.add_argument("--max-minutes", type=float, help="the reach in minutes with --travel-times")
    h.add_argument("--objective", choices=["coverage", "distance"], default="coverage",
                   help="coverage: the most demand within reach (maximal covering, default); "
                   "distance: the least demand-weighted distance to the nearest hub (p-median)")
    h.add_argument("--name", help="output folder under <marts>/hubs/ (default from the options)")
    scenario(h)
    c = add("compare-scenarios", _cmd_compare)
    c.add_argument("a", help="scenario name, or 'current' for the live marts")
    c.add_argument("b", help="scenario name, or 'current'")
    c.add_argument("--limit", type=int, default=20, help="LSOAs and areas to print (default 20)")
    c.add_argument("--csv", metavar="FILE", help="write every changed LSOA to a CSV")
    rb = add("rollback", _cmd_rollback)
    scenario(rb)
    o = add("docs", _cmd_docs)
    scenario(o)
    v = add("dev", _cmd_dev, add_help=False)  # -h is dagster dev's --host
    v.add_argument("extra", nargs=argparse.REMAINDER, help="passed on to dagster dev")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dedi`` console script: user mistakes print one line, not a trace."""
    from pipeline.errors import (
        EvaluateError,
        HubsError,
        SettingsError,
        SourceError,
        SpecError,
        WarehouseError,
    )

    ap = _parser()
    args, unknown = ap.parse_known_args(argv)
    if args.cmd == "dev":
        args.extra = unknown + args.extra
    elif unknown:
        ap.error(f"unrecognized arguments: {' '.join(unknown)}")
    saved = {k: os.environ.get(k) for k in ("DEDI_RAW_DIR", "DEDI_STAGING_DIR")}
    try:  # --raw-dir / --scenario set these for this command only (callers may be in-process)
        return args.func(args)
    except (WarehouseError, SpecError, SettingsError, SourceError, LookupError,
            EvaluateError, HubsError) as exc:
        msg = exc.args[0] if isinstance(exc, LookupError) and exc.args else exc
        print(f"dedi {args.cmd}: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dedi {args.cmd}: interrupted", file=sys.stderr)
        return 130
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def entry() -> None:
    """The ``dedi`` console script: :func:`main`, then exit without the interpreter's final
    garbage collections (``gc.freeze``). After a build those passes over the millions of
    objects Dagster, Great Expectations and pandas leave behind took ~1.5 s; by then every
    output is written, synced and closed, and the operating system frees the memory."""
    import gc

    from pipeline.build.tuning.process import reuse_freed_memory

    reuse_freed_memory()
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    entry()
