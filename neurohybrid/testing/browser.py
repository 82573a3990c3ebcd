"""Headless Chromium for tests that look at the live page as a user would (Debian's ``chromium``
driven by Playwright through ``executable_path``: no browser download; this machine's network is
closed, so every background service of the browser is switched off)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
APT_INSTALL = ("apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", "chromium")
APT_UPDATE = ("apt-get", "-o", "DPkg::Lock::Timeout=600", "update")
INSTALL_TIMEOUT_S = 900.0


def find_or_install_chromium() -> tuple[Path | None, str]:
    """Debian's chromium (installed with apt-get when missing); (None, why) where that fails."""
    found = shutil.which("chromium")
    if found:
        return Path(found), ""
    if shutil.which("apt-get") is None:
        return None, "no chromium, and no apt-get to install Debian's chromium package"
    if os.geteuid() != 0:
        return None, "no chromium, and installing Debian's chromium package (apt-get) needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log = ""
    for steps in ((APT_INSTALL,), (APT_UPDATE, APT_INSTALL)):  # a stale package list: update, then again
        try:
            for step in steps:
                result = subprocess.run(step, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
                log = (result.stdout + result.stderr)[-500:]
                if result.returncode != 0:
                    break
        except subprocess.TimeoutExpired:
            return None, f"installing Debian's chromium took more than {INSTALL_TIMEOUT_S:.0f} s"
        found = shutil.which("chromium")
        if found:
            return Path(found), ""
    return None, f"Debian's chromium package could not be installed: {log.strip()}"


@contextmanager
def headless_page(chromium: Path, width: int = 1500, height: int = 1100) -> Iterator[object]:
    """A Playwright page in a fresh headless Chromium (its own --user-data-dir), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="nh-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(chromium), args=list(CHROMIUM_FLAGS), headless=True,
            viewport={"width": width, "height": height})
        try:
            yield context.new_page()
        finally:
            context.close()
