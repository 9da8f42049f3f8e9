"""Scale out: two app instances sharing PostgreSQL and Redis, two mail workers.

    flock /tmp/tenantry-heavy.lock .venv/bin/python bench/load/scale_out.py [--redis-db 7]

Two gunicorn instances on different ports, one fresh database on 127.0.0.1:5432, the
same SECRET_KEY, ``RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/<--redis-db>`` (that
database is emptied before and after: keep it for this), ``LOGIN_RATE_LIMIT=5 per
minute`` and ``API_RATE_LIMIT=10 per minute``. A client with one cookie jar (as a browser
has: cookies don't depend on the port) checks that

- a session started on A works on B, a CSRF token from a page of A is good for a POST to
  B, and signing out on B ends the session on A too (the old cookie included);
- failed sign-ins alternating A, B, A… get 429 after 5 in all; an API key alternating
  between them gets 429 after 10 in all (with Retry-After), while another key still works;
- two ``flask mail deliver --loop`` workers started together over an outbox of a few
  hundred invitations (queued through both instances) send each message exactly once.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import harness as h
import redis

CSRF = re.compile(r'(?:name="csrf_token" type="hidden" value|data-csrf-token)="([^"]+)"')
SWITCH_ORG = re.compile(r'<input type="hidden" name="org" value="(org_[0-9A-Z]+)">')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis server")
    parser.add_argument("--redis-db", type=int, default=7, help="a Redis database of our own")
    parser.add_argument("--emails", type=int, default=400, help="invitations to deliver")
    parser.add_argument("--server", default=h.SHARED_SERVER, help="PostgreSQL server URL")
    return parser.parse_args()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One cookie jar for every port of 127.0.0.1, no redirects followed."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )
        self.csrf = ""

    def open(self, method: str, url: str, form: dict | None = None) -> tuple[int, str, dict]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                status, body, headers = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, body, headers = error.code, error.read(), dict(error.headers)
        text = body.decode("utf-8", "replace")
        found = CSRF.search(text)
        if found:
            self.csrf = found.group(1)
        return status, text, headers

    def get(self, url: str) -> tuple[int, str, dict]:
        return self.open("GET", url)

    def post(self, url: str, form: dict) -> tuple[int, str, dict]:
        return self.open("POST", url, {**form, "csrf_token": self.csrf})

    def session_cookie(self) -> str:
        return next((c.value for c in self.jar if c.name == "tenantry_session"), "")


def sign_in(browser: Browser, base: str, tenant: str, email: str, password: str) -> int:
    browser.get(f"{base}/t/{tenant}/login")
    status, _text, _headers = browser.post(
        f"{base}/t/{tenant}/login", {"email": email, "password": password, "next": ""}
    )
    return status


def main() -> int:
    h.stop_on_sigterm()
    args = parse_args()
    verdict = h.Verdict("scale out: two app instances on one PostgreSQL and one Redis")
    store = redis.Redis.from_url(f"{args.redis}/{args.redis_db}")
    store.flushdb()
    with (
        h.workdir("scale") as tmp,
        h.fresh_database(args.server, "tenantry_scale") as database,
        h.Stack() as stack,
    ):
        stack.callback(store.flushdb)
        sink = h.SMTPSink(tmp)
        env = h.app_env(
            database,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(sink.port),
            RATELIMIT_STORAGE_URI=f"{args.redis}/{args.redis_db}",
            LOGIN_RATE_LIMIT="5 per minute",
            API_RATE_LIMIT="10 per minute",
        )
        h.prepare_database(env)
        h.new_tenant(env, "limits")
        key_limited, key_other, key_mail = (h.create_api_key(env, name=n) for n in "abc")
        stack.run(sink)
        a = stack.run(h.Gunicorn(env, tmp, workers=2, name="gunicorn-a"))
        b = stack.run(h.Gunicorn(env, tmp, workers=2, name="gunicorn-b"))
        h.log(f"instances A {a.url} and B {b.url}, Redis db {args.redis_db}")

        # --- one session, two instances ----------------------------------------------
        browser = Browser()
        signed_in = sign_in(browser, a.url, "acme", "owner@acme.example", h.DEMO_PASSWORD)
        status_b, page_b, _ = browser.get(f"{b.url}/t/acme/orgs/switch")
        on_b = status_b == 200 and 'action="/t/acme/logout"' in page_b
        _s, page_a, _ = browser.get(f"{a.url}/t/acme/orgs/switch")  # CSRF token from A
        orgs = SWITCH_ORG.findall(page_a)
        switched, _t, switch_headers = browser.post(
            f"{b.url}/t/acme/orgs/switch", {"org": orgs[-1] if orgs else ""}
        )
        old_cookie = browser.session_cookie()
        signed_out, _t, _h = browser.post(f"{b.url}/t/acme/logout", {})
        after_a, _t, after_headers = browser.get(f"{a.url}/t/acme/orgs/")
        replay = h.http(
            "GET", f"{a.url}/t/acme/orgs/", headers={"Cookie": f"tenantry_session={old_cookie}"}
        )
        verdict.check("signed in on A", signed_in == 303, f"status {signed_in}")
        verdict.check(
            "the session works on B", on_b, f"GET B /t/acme/orgs/switch: {status_b}, signed in"
        )
        verdict.check(
            "a CSRF token from A is good for a POST to B",
            switched == 303 and "/orgs/" in switch_headers.get("Location", ""),
            f"POST B /t/acme/orgs/switch: {switched}",
        )
        verdict.check(
            "signing out on B ends the session on A, the old cookie too",
            signed_out == 303
            and after_a in (302, 303)
            and "/login" in after_headers.get("Location", "")
            and replay.status in (302, 303),
            f"A afterwards: {after_a}, old cookie on A: {replay.status}",
        )

        # --- shared rate limits ------------------------------------------------------
        attempts = []
        for n in range(7):
            base = (a, b)[n % 2].url
            attempts.append(
                sign_in(Browser(), base, "limits", "owner@limits.example", "wrong-password-x")
            )
        verdict.figures["failed sign-ins A,B,A,B,A,B,A"] = attempts
        verdict.check(
            "failed sign-ins across both instances: 429 after 5 in all",
            attempts[:5] == [422] * 5 and attempts[5:] == [429, 429],
            str(attempts),
        )
        api_statuses, retry_after = [], None
        for n in range(12):
            answer = h.ApiClient((a, b)[n % 2].url, key_limited).call("GET", "/orgs?limit=1")
            api_statuses.append(answer.status)
            if answer.status == 429:
                retry_after = answer.headers.get("Retry-After")
        other = h.ApiClient(b.url, key_other).call("GET", "/orgs?limit=1").status
        verdict.figures["one API key, A,B,A,B… x12"] = api_statuses
        verdict.check(
            "an API key across both instances: 429 after 10 in all, with Retry-After",
            api_statuses[:10] == [200] * 10 and api_statuses[10:] == [429, 429] and retry_after,
            f"{api_statuses}, Retry-After {retry_after}",
        )
        verdict.check("another key is not limited by it", other == 200, f"status {other}")
        keys = store.keys("*")
        verdict.figures["rate-limit keys in Redis"] = len(keys)
        verdict.check("the limits live in Redis", len(keys) >= 2)

        # --- two mail workers, one outbox --------------------------------------------
        since = time.time() - 1
        per_request = 100
        for n in range(args.emails // per_request):
            api = h.ApiClient((a, b)[n % 2].url, key_mail)
            emails = [f"mail-{n}-{i}@scale.example" for i in range(per_request)]
            answer = api.call(
                "POST", f"/orgs/{api.first_org()}/invitations/bulk", {"emails": emails}
            )
            if answer.status != 200:
                raise RuntimeError(f"bulk invite failed: {answer.status} {answer.text[:200]}")
        queued = h.outbox_counts(database).get("pending", 0)
        workers = [stack.run(h.MailWorker(env, tmp, name=f"mail-worker-{n}")) for n in (1, 2)]
        started = time.monotonic()
        outbox = h.wait_for_outbox(database, timeout=180)
        took = time.monotonic() - started
        time.sleep(1)  # the workers print their last batch
        messages = sink.messages()
        per_rcpt = Counter(m["rcpt"] for m in messages if m["rcpt"].endswith("@scale.example"))
        twice = {rcpt: n for rcpt, n in per_rcpt.items() if n > 1}
        mail = h.invitations_vs_sink(database, messages, since)
        sent = [worker.sent() for worker in workers]
        verdict.figures.update(
            {
                "outbox": f"{queued} queued; then {outbox}",
                "delivered": f"{sum(per_rcpt.values())} in {took:.1f} s; worker 1 sent "
                f"{sent[0]}, worker 2 sent {sent[1]}",
            }
        )
        verdict.check("both workers delivered", all(sent), str(sent))
        verdict.check(
            "no message sent twice (per recipient in the sink)",
            not twice and len(per_rcpt) == args.emails // per_request * per_request,
            f"{len(per_rcpt)} recipients, {len(twice)} with more than one message",
        )
        verdict.check(
            "every invitation has exactly one email (by token)",
            not mail.missing and not mail.duplicated,
            f"{mail.emails_ok}/{mail.invitations} ok",
        )
        verdict.check(
            "the workers' counts add up to the sink's",
            sum(sent) == len(messages),
            f"{sum(sent)} reported, {len(messages)} received",
        )
    return verdict.report()


if __name__ == "__main__":
    raise SystemExit(main())
