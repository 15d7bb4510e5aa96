"""Debian's chromium driven by Playwright, for every browser test (never a downloaded
browser; a missing one is an error, never a skip)."""

import contextlib
import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("PECULE_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags chromium keeps trying hosts this machine's
# closed network refuses.
ARGUMENTS_CHROMIUM = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def lancer_chromium(delai_expect_ms: int = 10_000):
    """Yield a headless chromium.

    While Playwright's sync API runs, an asyncio loop is marked as running in the main
    thread, which makes Django refuse ORM calls (SynchronousOnlyOperation). The browser's
    scope allows them (the ORM still runs in this thread only), and the permission ends
    with it, so the rest of the run is untouched."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. The browser tests need Debian's chromium "
            "(apt-get install chromium) or PECULE_CHROMIUM=/path/to/chromium (never "
            "`playwright install`); they are never skipped.",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    # Room for a slow CI machine; each expect() still returns as soon as it holds.
    expect.set_options(timeout=delai_expect_ms)
    avant = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=ARGUMENTS_CHROMIUM
            )
            yield chromium
            chromium.close()
    finally:
        if avant is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = avant
