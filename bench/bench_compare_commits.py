"""Benchmark: a cold real-England build and the up-to-date answer of two commits, alternating.

Run: ``uv run python bench/bench_compare_commits.py BASE [HEAD] [--rounds 3] [--raw DIR]``
(default HEAD: this working tree). Each commit is checked out once into a temporary git
worktree and run with this environment's interpreter (``PYTHONPATH`` set to the worktree), so
both use the same installed packages. Round by round, each commit builds from empty staging and
marts (cold), then again with nothing changed (up to date); the commits alternate so that the
machine's drift falls on both. Prints a Markdown table of every run and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import build_env  # noqa: E402


def checkout(commit: str, into: Path) -> Path:
    """A worktree of ``commit`` (its CLI module: pipeline.cli.main, or pipeline.cli before
    the rooms), or this tree for ``HEAD``."""
    if commit == "HEAD":
        return ROOT
    subprocess.run(["git", "worktree", "add", "--detach", str(into), commit], cwd=ROOT,
                   check=True, capture_output=True)
    return into


def cli_module(tree: Path) -> str:
    return "pipeline.cli.main" if (tree / "pipeline" / "cli" / "main.py").exists() else "pipeline.cli"


def timed_build(tree: Path, raw: Path, out: Path) -> float:
    env = {**build_env(raw, out), "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", cli_module(tree), "build", "--quiet"], cwd=tree,
                   env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("head", nargs="?", default="HEAD")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--raw", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        trees = {c: checkout(c, t / f"tree{i}") for i, c in enumerate((args.base, args.head))}
        times: dict[str, dict[str, list[float]]] = {c: {"cold": [], "up to date": []}
                                                    for c in trees}
        try:
            for r in range(args.rounds):
                for c, tree in trees.items():
                    out = t / f"out-{r}-{c}"
                    times[c]["cold"].append(timed_build(tree, args.raw, out))
                    times[c]["up to date"].append(timed_build(tree, args.raw, out))
                    print(f"round {r + 1} {c}: cold {times[c]['cold'][-1]:.2f} s, up to date "
                          f"{times[c]['up to date'][-1]:.2f} s", file=sys.stderr, flush=True)
        finally:
            for tree in trees.values():
                if tree != ROOT:
                    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                                   capture_output=True)
    print("| commit | scenario | runs (s) | median (s) |\n|---|---|---|---|")
    for c, by in times.items():
        for scenario, xs in by.items():
            print(f"| `{c}` | {scenario} | {', '.join(f'{x:.2f}' for x in xs)} | "
                  f"{statistics.median(xs):.2f} |")
    base, head = (statistics.median(times[c]["cold"]) for c in trees)
    print(f"\ncold build: {head / base - 1:+.1%} ({args.head} against {args.base})")


if __name__ == "__main__":
    main()
