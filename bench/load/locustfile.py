"""The mixed workload: tenant admins using the app as people do, plus their integration.

Run by ``load_test.py`` (which prepares everything and passes it in the environment):

- ``LOAD_ACCOUNTS``: a JSON file, one entry per simulated person: a generated admin or
  owner of one generated org (``email``, ``org_slug``, ``org_id``) and addresses of
  tenant people to invite (``existing``);
- ``LOAD_API_KEY``: a tenant API key (``flask api-keys create``);
- ``LOAD_SINK_DB``: the SMTP sink's SQLite file, where invitees find their email;
- ``LOAD_RUN``: a tag put in every address this run invites;
- ``LOAD_WAIT``: think time between tasks, ``MIN,MAX`` seconds (default 2,8);
- ``LOAD_ACCEPT_WEIGHT``: how often a person turns to the invitations waiting in the sink,
  as a task weight (default 2, of 27 in all);
- ``LOAD_SAMPLES``: a file that gets every request as ``name<TAB>status<TAB>ms`` at the
  end, so exact percentiles can be computed (locust's own are rounded).

Each person signs in through the form (CSRF token from the page) and then, between
think times: browses the tree and expands nodes, opens dashboards, searches orgs and
members, changes members' roles (the row's htmx POST), invites by the form and by the API,
accepts invitations from the emails in the sink (strangers sign up, tenant people sign
in), switches org, and calls the JSON API. A response other than the ones a step expects
is a failure (5xx above all); ``load_test.py`` reads the stats afterwards.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sqlite3
import threading
import time
from collections import deque

from locust import HttpUser, between, events, task
from locust.clients import HttpSession

TENANT = os.environ.get("LOAD_TENANT", "acme")
PASSWORD = os.environ.get("LOAD_PASSWORD", "demo-password-1")
RUN = os.environ.get("LOAD_RUN", "run")
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("LOAD_WAIT", "2,8").split(","))
ACCEPT_WEIGHT = int(os.environ.get("LOAD_ACCEPT_WEIGHT", "2"))
API_KEY = os.environ.get("LOAD_API_KEY", "")
SINK_DB = os.environ.get("LOAD_SINK_DB", "")
INVITEE_DOMAIN = "invitees.load.example"  # .test is refused: a special-use name
ACCOUNT_COUNTER = itertools.count()
ACCOUNTS: list[dict] = []
if os.environ.get("LOAD_ACCOUNTS"):
    with open(os.environ["LOAD_ACCOUNTS"]) as handle:
        ACCOUNTS = json.load(handle)

CSRF = re.compile(r'(?:name="csrf_token" type="hidden" value|data-csrf-token)="([^"]+)"')
CHILDREN_URL = re.compile(r'data-children-url="([^"]+)"')
ROLE_FORM = re.compile(
    r'<tr id="member-(usr_[0-9A-Z]+)".*?action="([^"]+/role)".*?<select name="role"(.*?)</select>',
    re.S,
)
SELECTED = re.compile(r'<option value="([a-z_0-9-]+)" selected>')
SWITCH_ORG = re.compile(r'<input type="hidden" name="org" value="(org_[0-9A-Z]+)">')
SEARCH_WORDS = ["gen", "eng", "sales", "ops", "team", "a", "e", "north", "1", "2"]
MEMBER_SEARCHES = ["person1", "person2", "person", "@gen", "p", "son3", "9"]
API = "/api/v1"
sink_lock = threading.Lock()
_sink: sqlite3.Connection | None = None


SAMPLES: list[tuple[str, int, float]] = []


@events.request.add_listener
def _sample(name, response_time, response=None, exception=None, **_kw) -> None:
    SAMPLES.append((name, int(getattr(response, "status_code", 0) or 0), float(response_time)))


@events.test_stop.add_listener
def _write_samples(**_kw) -> None:
    if os.environ.get("LOAD_SAMPLES"):
        with open(os.environ["LOAD_SAMPLES"], "w") as handle:
            handle.writelines(f"{name}\t{status}\t{ms:.1f}\n" for name, status, ms in SAMPLES)


def sink_token(address: str) -> str | None:
    """The token of the newest invitation email to ``address`` in the sink, if any."""
    global _sink
    if not SINK_DB:
        return None
    with sink_lock:
        if _sink is None:
            _sink = sqlite3.connect(SINK_DB, timeout=5, check_same_thread=False)
        try:
            row = _sink.execute(
                "SELECT token FROM messages WHERE rcpt = ? AND token IS NOT NULL "
                "ORDER BY id DESC LIMIT 1",
                (address.lower(),),
            ).fetchone()
        except sqlite3.OperationalError:  # the sink has not created its table yet
            return None
    return row[0] if row else None


class TenantAdmin(HttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        self.account = ACCOUNTS[next(ACCOUNT_COUNTER) % len(ACCOUNTS)]
        self.org = self.account["org_slug"]
        self.org_id = self.account["org_id"]
        self.prefix = f"/t/{TENANT}"
        self.csrf = ""
        self.invited = itertools.count(1)
        self.waiting: deque[tuple[str, float, bool]] = deque()  # address, since, existing
        self.children: list[str] = []
        self.sign_in()

    # --- helpers -------------------------------------------------------------------

    def _send(self, method: str, url: str, name: str, expect, **kw):
        """One request; a status not in ``expect`` is a failure (and None)."""
        with self.client.request(
            method, url, name=name, catch_response=True, allow_redirects=False, **kw
        ) as response:
            if response.status_code not in expect:
                response.failure(f"status {response.status_code}: {response.text[:200]!r}")
                return None
            return response

    def page(self, url: str, name: str, *, htmx: bool = False, expect=(200,), **kw):
        """GET a page; keep its CSRF token; a status not in ``expect`` is a failure."""
        headers = {"HX-Request": "true"} if htmx else {}
        response = self._send("GET", url, name, expect, headers=headers, **kw)
        found = CSRF.search(response.text or "") if response is not None else None
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, url: str, name: str, data=None, *, htmx: bool = False, expect=(303,), **kw):
        form = dict(data or {})
        if htmx:
            headers = {"X-CSRFToken": self.csrf, "HX-Request": "true"}
        else:
            headers, form["csrf_token"] = {}, self.csrf
        return self._send("POST", url, name, expect, data=form, headers=headers, **kw)

    def api(self, method: str, path: str, name: str, *, expect=(200,), **kw):
        headers = {"Authorization": f"Bearer {API_KEY}"}
        return self._send(method, API + path, f"API {method} {name}", expect, headers=headers, **kw)

    def sign_in(self) -> None:
        self.client.cookies.clear()
        if self.page(f"{self.prefix}/login", "sign-in page") is None:
            return
        data = {"email": self.account["email"], "password": PASSWORD, "next": ""}
        if self.post(f"{self.prefix}/login", "sign in (POST)", data) is not None:
            self.page(f"{self.prefix}/", "home", expect=(302, 303))
            self.page(f"{self.prefix}/orgs/{self.org}/", "org dashboard")

    def stranger(self) -> str:
        return f"{RUN}-{self.account['n']}-{next(self.invited)}@{INVITEE_DOMAIN}"

    # --- browsing ------------------------------------------------------------------

    @task(5)
    def browse_tree(self) -> None:
        response = self.page(f"{self.prefix}/orgs/", "org tree")
        if response is None:
            return
        urls = CHILDREN_URL.findall(response.text)
        if urls:
            expanded = self.page(random.choice(urls), "expand node", htmx=True)
            if expanded is not None:
                deeper = CHILDREN_URL.findall(expanded.text)
                if deeper:
                    self.page(random.choice(deeper), "expand node", htmx=True)

    @task(2)
    def search_orgs(self) -> None:
        word = random.choice(SEARCH_WORDS)
        self.page(f"{self.prefix}/orgs/?q={word}", "org search", htmx=True)

    @task(3)
    def dashboard(self) -> None:
        self.page(f"{self.prefix}/orgs/{self.org}/", "org dashboard")

    @task(3)
    def members(self) -> None:
        self.page(f"{self.prefix}/orgs/{self.org}/members", "members page")
        word = random.choice(MEMBER_SEARCHES)
        self.page(f"{self.prefix}/orgs/{self.org}/members?q={word}", "member search", htmx=True)

    @task(1)
    def invitations_list(self) -> None:
        self.page(f"{self.prefix}/orgs/{self.org}/invitations", "invitations page")

    # --- changes -------------------------------------------------------------------

    @task(3)
    def change_role(self) -> None:
        """A member's Role select, as htmx posts it: member <-> viewer (never owners or
        admins, so nobody locks anyone out)."""
        response = self.page(f"{self.prefix}/orgs/{self.org}/members", "members page")
        if response is None:
            return
        rows = []
        for user_id, action, options in ROLE_FORM.findall(response.text):
            current = SELECTED.search(options)
            if current and current.group(1) in ("member", "viewer"):
                rows.append((user_id, action, current.group(1)))
        if not rows:
            return
        _user_id, action, current = random.choice(rows)
        role = "viewer" if current == "member" else "member"
        self.post(action, "change role (htmx POST)", {"role": role}, htmx=True, expect=(200,))

    @task(2)
    def invite_by_form(self) -> None:
        form_url = f"{self.prefix}/orgs/{self.org}/invitations/new"
        if self.page(form_url, "invite form") is None:
            return
        addresses = [self.stranger() for _ in range(random.randint(1, 3))]
        existing = ""
        if random.random() < 0.3 and self.account["existing"]:
            existing = self.account["existing"].pop()
            addresses.append(existing)
        data = {"emails": "\n".join(addresses), "role": random.choice(["member", "viewer"])}
        if self.post(form_url, "invite (form POST)", data, expect=(200,)) is not None:
            now = time.monotonic()
            for address in addresses:
                self.waiting.append((address, now, address == existing))

    @task(1)
    def invite_by_api(self) -> None:
        address = self.stranger()
        body = {"emails": [address, self.stranger()], "role": "member"}
        response = self.api(
            "POST", f"/orgs/{self.org_id}/invitations/bulk", "bulk invite", json=body
        )
        if response is not None:
            now = time.monotonic()
            self.waiting.extend((item["email"], now, False) for item in response.json()["data"])

    @task(ACCEPT_WEIGHT)
    def accept_invitation(self) -> None:
        """The invitee opens the emailed link in their own browser and joins."""
        for _ in range(len(self.waiting)):
            address, since, existing = self.waiting.popleft()
            token = sink_token(address)
            if token:
                self._accept(token, existing)
                return
            if time.monotonic() - since < 120:
                self.waiting.append((address, since, existing))

    def _accept(self, token: str, existing: bool) -> None:
        invitee = HttpSession(
            base_url=self.host, request_event=self.environment.events.request, user=self
        )
        link = f"/invitations/{token}"
        with invitee.get(link, name="invitation link", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            found = CSRF.search(response.text)
        data = {"csrf_token": found.group(1) if found else ""}
        if existing:
            step, data["password"] = "sign-in", PASSWORD
        else:
            step, data["name"], data["password"] = "sign-up", "Load Invitee", PASSWORD
        with invitee.post(
            f"{link}/{step}",
            data=data,
            name=f"accept by {step} (POST)",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code != 303:
                response.failure(f"status {response.status_code}: {response.text[:200]!r}")
                return
            landing = response.headers.get("Location", "")
        with invitee.get(landing, name="invitee lands in org", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
        invitee.close()

    @task(1)
    def switch_org(self) -> None:
        response = self.page(f"{self.prefix}/orgs/switch", "my organizations")
        if response is None:
            return
        choices = SWITCH_ORG.findall(response.text)
        if choices:
            self.post(
                f"{self.prefix}/orgs/switch", "switch org (POST)", {"org": random.choice(choices)}
            )

    # --- the JSON API ----------------------------------------------------------------

    @task(4)
    def api_reads(self) -> None:
        listing = self.api("GET", "/orgs?limit=25", "/orgs")
        if listing is not None and listing.json()["next_cursor"]:
            self.api(
                "GET", f"/orgs?limit=25&cursor={listing.json()['next_cursor']}", "/orgs (next page)"
            )
        self.api("GET", f"/orgs/{self.org_id}/members?limit=25", "/orgs/{id}/members")
        choice = random.random()
        if choice < 0.3:
            self.api("GET", "/users?limit=25", "/users")
        elif choice < 0.6:
            self.api("GET", f"/orgs/{self.org_id}/invitations?limit=25", "/orgs/{id}/invitations")
        else:
            self.api("GET", f"/orgs/{self.org_id}", "/orgs/{id}")
