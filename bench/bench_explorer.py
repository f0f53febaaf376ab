"""Benchmark: the explorer in headless Chromium (Debian chromium): load to first map, and a
weight-slider change to the redrawn map (DX and DEDI recomputed for every LSOA in the page).

Run: ``uv run python bench/bench_explorer.py PATH/TO/explorer/index.html``.
"""

from __future__ import annotations

import sys
import time

from playwright.sync_api import sync_playwright

FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SLIDER = """async () => {
  const el = document.getElementById('sl-w'); el.value = 0.3;
  const t = performance.now(); el.dispatchEvent(new Event('input', {bubbles: true}));
  while (window.DEDI_STATE.weights.dx_weight !== 0.3) await new Promise(r => setTimeout(r, 2));
  return performance.now() - t; }"""


def main(path: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        t0 = time.perf_counter()
        page.goto(f"file://{path}")
        page.wait_for_function("window.DEDI_STATE && window.DEDI_STATE.ready", timeout=120_000)
        load = time.perf_counter() - t0
        slider = page.evaluate(SLIDER) - 60  # the page waits 60 ms for the slider to settle
        print(f"| load to first map | {load:.2f} s |\n| slider change to redrawn map | "
              f"{slider:.0f} ms |")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1])
