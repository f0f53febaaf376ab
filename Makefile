# DEDI: the two commands of the README, plus a benchmark. Each sets itself up (uv + locked deps).
.PHONY: setup demo test bench lint

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	uv sync --frozen

demo: setup          ## install, generate the synthetic demo area and build the marts
	uv run dedi build

test: setup          ## install, lint and run the whole test suite
	uv run ruff check pipeline tests bench
	uv run pytest

bench: setup         ## wall time and peak memory (results go in BENCHMARKS.md)
	uv run python bench/bench_build.py
	uv run python bench/bench_inputs.py
	uv run python bench/bench_monte_carlo.py
