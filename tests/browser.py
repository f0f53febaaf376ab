"""Headless Chromium (Debian ``chromium``) driven by Playwright, for the pages people look at.

Every page is opened from disk; the helper records console errors, page errors and every
request, so a test can assert that a page is offline (no request outside its own file).
Screenshots go to ``.screenshots/`` (git-ignored) to be looked at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking"]
SHOTS = Path(__file__).resolve().parents[1] / ".screenshots"
have_chromium = Path(CHROMIUM).exists()
requires_chromium = pytest.mark.skipif(not have_chromium, reason="Debian chromium not installed "
                                       "(.ci/run installs it)")


@dataclass
class PageVisit:
    """What happened while a page was open."""

    page: object
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self, own: str) -> list[str]:
        """Requests for anything but the page's own file (or inline data)."""
        return [u for u in self.requests if u.split("#")[0] != own and not u.startswith("data:")]


@contextmanager
def chromium_browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS[1:], headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def visit(browser, path: Path, fragment: str = "", width: int = 1500,
          height: int = 950) -> Iterator[PageVisit]:
    """Open ``path`` (file://) with an optional ``#fragment``; yields the visit."""
    page = browser.new_page(viewport={"width": width, "height": height})
    v = PageVisit(page)
    page.on("console", lambda m: v.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: v.errors.append(str(e)))
    page.on("request", lambda r: v.requests.append(r.url))
    page.goto(path.resolve().as_uri() + (f"#{fragment}" if fragment else ""))
    try:
        yield v
    finally:
        page.close()


def screenshot(visit_: PageVisit, name: str) -> Path:
    """Full-page PNG under .screenshots/; returns its path."""
    SHOTS.mkdir(exist_ok=True)
    out = SHOTS / f"{name}.png"
    visit_.page.screenshot(path=str(out), full_page=True)
    return out


def non_blank(png: Path) -> float:
    """Share of pixels that differ from the most common colour (0 = blank)."""
    import numpy as np
    from PIL import Image

    a = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    _, counts = np.unique(a, axis=0, return_counts=True)
    return 1.0 - counts.max() / len(a)
