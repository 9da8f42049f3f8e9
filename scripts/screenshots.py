"""Screenshots of the main pages at 1280x800 and 390x844, into docs/screens/.

    make screenshots            # a fresh demo database and server, then the pictures
    python scripts/screenshots.py --base-url http://127.0.0.1:5000   # an app already running

It drives Debian's Chromium (/usr/bin/chromium) with Playwright, signed in as the demo
tenant owner (and the demo staff account for the support console), and writes
docs/screens/<page>-<desktop|phone>.png, plus docs/screens/README.md listing them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screens"
CHROMIUM = "/usr/bin/chromium"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
PASSWORD = "demo-password-1"
TENANT = "/t/acme"

# (file name, title, path, signed in as "owner" | "staff", what to do once it has loaded)
PAGES: list[tuple[str, str, str, str, str | None]] = [
    ("org-tree", "Organization tree", f"{TENANT}/orgs/", "owner", None),
    ("switcher", "Org switcher, open", f"{TENANT}/orgs/engineering/", "owner", "open-switcher"),
    ("dashboard", "Org dashboard", f"{TENANT}/orgs/engineering/", "owner", None),
    ("members", "Members", f"{TENANT}/orgs/engineering/members", "owner", None),
    ("invitations", "Invitations", f"{TENANT}/orgs/engineering/invitations", "owner", None),
    ("teams", "Teams", f"{TENANT}/orgs/engineering/teams", "owner", None),
    ("audit-log", "Audit log", f"{TENANT}/orgs/engineering/audit", "owner", None),
    ("org-settings", "Org settings", f"{TENANT}/orgs/engineering/settings", "owner", None),
    ("tenant-settings", "Tenant settings", f"{TENANT}/settings", "owner", None),
    ("account", "Your account", f"{TENANT}/account", "owner", None),
    ("phone-menu", "Header menu (phone)", f"{TENANT}/orgs/engineering/", "owner", "open-menu"),
    ("staff-tenants", "Support console: tenants", "/staff/", "staff", None),
    ("staff-search", "Support console: search", "/staff/search?q=lovelace", "staff", None),
    ("sign-in", "Sign in", f"{TENANT}/login", "", None),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def demo_server() -> Iterator[str]:
    """A throwaway demo database and the app serving it; yields its URL."""
    tmp = Path(tempfile.mkdtemp(prefix="tenantry-screens-"))
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'screens.db'}",
        SECRET_KEY="screenshots-only",
        FLASK_DEBUG="0",
        FLASK_SKIP_DOTENV="1",
        RATELIMIT_STORAGE_URI="memory://",
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    port = _free_port()
    env["PORT"] = str(port)
    for args in (["db", "upgrade"], ["demo", "seed", "--with-staff"]):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*flask, "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/", timeout=1)  # noqa: S310 (local http)
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


def sign_in(page: Page, base_url: str, who: str) -> None:
    if who == "owner":
        page.goto(f"{base_url}{TENANT}/login")
        page.fill("input[name=email]", "owner@acme.example")
    else:
        page.goto(f"{base_url}/staff/login")
        page.fill("input[name=email]", "staff@tenantry.example")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def act(page: Page, action: str | None) -> None:
    if action == "open-switcher":
        page.locator(".org-switcher > summary").click()
        page.wait_for_selector("#header-switch-list .switch-list")
    elif action == "open-menu":
        menu = page.locator(".app-menu > summary")
        if menu.is_visible():
            menu.click()


def take(base_url: str, only: set[str] | None = None) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        for size_name, (width, height) in SIZES.items():
            contexts = {}
            for who in ("owner", "staff", ""):
                context = browser.new_context(viewport={"width": width, "height": height})
                if who:
                    sign_in(context.new_page(), base_url, who)
                contexts[who] = context
            for name, _title, path, who, action in PAGES:
                if only and name not in only:
                    continue
                if name == "phone-menu" and size_name != "phone":
                    continue
                page = contexts[who].new_page()
                page.goto(base_url + path)
                page.wait_for_load_state("networkidle")
                act(page, action)
                target = OUT / f"{name}-{size_name}.png"
                page.screenshot(path=target, full_page=action is None)
                written.append(target)
                page.close()
            for context in contexts.values():
                context.close()
        browser.close()
    return written


def write_index() -> None:
    lines = [
        "# Screens",
        "",
        "Made by `make screenshots` (scripts/screenshots.py) from the demo data; run it again",
        "after changing a page. Each page at 1280×800 and at 390×844 (a phone).",
        "",
        "| Page | Desktop | Phone |",
        "|---|---|---|",
    ]
    for name, title, _path, _who, _action in PAGES:
        desktop = (
            f"[desktop]({name}-desktop.png)" if (OUT / f"{name}-desktop.png").exists() else "—"
        )
        phone = f"[phone]({name}-phone.png)" if (OUT / f"{name}-phone.png").exists() else "—"
        lines.append(f"| {title} | {desktop} | {phone} |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="an app already serving the demo data")
    parser.add_argument("--only", nargs="*", help="page names to take (default: all)")
    args = parser.parse_args()
    only = set(args.only) if args.only else None
    if args.base_url:
        written = take(args.base_url.rstrip("/"), only)
    else:
        with demo_server() as url:
            written = take(url, only)
    write_index()
    print(f"{len(written)} screenshots in {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
