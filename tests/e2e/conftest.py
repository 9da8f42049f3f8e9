"""Browser tests: the real app in its own process, driven by Debian's Chromium.

The server runs like production (no debug, CSRF on) on a file SQLite database that
``db upgrade`` and ``demo seed`` prepare, once per test session. Every page a journey
visits goes through ``assert_accessible`` (axe-core: no serious or critical violations).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page

E2E_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = E2E_DIR.parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 30.0
BLOCKING_IMPACTS = {"serious", "critical"}
ACTION_TIMEOUT_MS = 10_000
_SCRIPTLESS: dict[int, bool] = {}  # contexts made with java_script_enabled=False, by id


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).resolve().is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    message = (
        f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium "
        "(Playwright's own download does not work here). Install it with "
        "`apt-get install -y chromium` (or `make chromium`)."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _chromium_installed() -> None:
    """Runs before anything expensive (the server) so a missing browser is reported first."""
    _require_chromium()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    _require_chromium()
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture
def new_context(new_context):
    """pytest-playwright's factory, with a 10 s action timeout: a stuck step fails fast."""

    def make(**kwargs) -> BrowserContext:
        context = new_context(**kwargs)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        _SCRIPTLESS[id(context)] = kwargs.get("java_script_enabled") is False
        return context

    return make


# --- the live server ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("FLASK_ENV", "FLASK_RUN_CERT", "FLASK_RUN_KEY", "BASE_URL", "TRUSTED_PROXIES"):
        env.pop(name, None)
    env.update(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "e2e-secret-key-not-for-production",
            # Explicit, so neither a developer's .env nor the shell turns debug on.
            "FLASK_DEBUG": "0",
            "FLASK_SKIP_DOTENV": "1",
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "RATELIMIT_STORAGE_URI": "memory://",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _flask(*args: str, env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        pytest.fail(
            f"`flask {' '.join(args)}` failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


def _wait_until_answering(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the app server exited with {process.returncode}:\n{log_path.read_text()}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local http)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(
        f"the app server did not answer {url} within {SERVER_START_TIMEOUT:.0f} s:\n"
        f"{log_path.read_text()}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The app as a separate process on a free port, with the demo data; yields its URL."""
    tmp = Path(tempfile.mkdtemp(prefix="tenantry-e2e-"))
    try:
        yield from _serve(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# The live server's environment (its DATABASE_URL above all), for tests that prepare data
# with the app's own services in a subprocess, the way `flask demo seed` does.
_SERVER_ENV: dict[str, str] = {}


@pytest.fixture(scope="session")
def live_server_env(live_server: str) -> dict[str, str]:
    return dict(_SERVER_ENV)


def _serve(tmp: Path) -> Iterator[str]:
    env = _server_env(f"sqlite:///{tmp / 'e2e.db'}")
    _SERVER_ENV.clear()
    _SERVER_ENV.update(env)
    _flask("db", "upgrade", env=env)
    _flask("demo", "seed", "--with-staff", env=env)

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-reload", "--no-debugger"]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_answering(f"{base_url}/", process, log_path)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """pytest-playwright gives every context this base URL, so journeys use paths."""
    return live_server


# --- accessibility -----------------------------------------------------------------


@pytest.fixture(scope="session")
def _axe() -> Axe:
    return Axe()


@pytest.fixture
def assert_accessible(_axe: Axe) -> Callable[[Page], None]:
    """``assert_accessible(page)``: fail listing every serious or critical axe violation."""

    def check(page: Page) -> None:
        page.wait_for_load_state("load")
        if _SCRIPTLESS.get(id(page.context)):
            # axe is a script: in a context without JavaScript it never answers. The same
            # pages are checked with JavaScript on by the journeys and the page walk.
            return
        results = _axe.run(page)
        blocking = [
            violation
            for violation in results.response["violations"]
            if violation.get("impact") in BLOCKING_IMPACTS
        ]
        if blocking:
            lines = [f"{len(blocking)} serious/critical accessibility violation(s) on {page.url}:"]
            for violation in blocking:
                lines.append(
                    f"- {violation['id']} ({violation['impact']}): {violation['help']}"
                    f" [{violation['helpUrl']}]"
                )
                for node in violation["nodes"]:
                    lines.append(f"    at {', '.join(map(str, node['target']))}")
                    summary = (node.get("failureSummary") or "").replace("\n", " ")
                    if summary:
                        lines.append(f"      {summary}")
            pytest.fail("\n".join(lines), pytrace=False)

    return check
