# DEDI: the two commands of the README, plus benchmarks. Each sets itself up (uv + locked deps).
# uv is installed with pip when missing; `python3 -m uv` works even where pip's scripts folder
# is not on PATH (pyenv without a rehash).
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: setup demo test bench

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --compile-bytecode

demo: setup          ## install, generate the synthetic demo area and build the marts
	$(UV) run dedi demo
	$(UV) run dedi build

test: setup          ## install, lint and run the whole test suite
	$(UV) run ruff check pipeline tests bench notebooks
	$(UV) run pytest

bench: setup         ## every scenario, median of 5 runs; regenerates the top of BENCHMARKS.md
	$(UV) run python bench/run_all.py
