"""Fault: a gunicorn worker is killed (SIGKILL) in the middle of a 1,000-address invite.

    flock /tmp/tenantry-heavy.lock .venv/bin/python bench/load/fault_worker_kill.py

gunicorn (4 workers, control socket in a temporary folder) + PostgreSQL (a fresh database
on 127.0.0.1:5432). One uninterrupted bulk invitation of 1,000 new addresses through the
JSON API measures how long one takes (T). Then, ``--kills`` times: the same request is
sent on a connection of our own; the worker that accepted it is found (gunicorn's control
socket lists the workers, and the one holding our connection is the one serving it), and
SIGKILLed at a point spread over 5 %…105 % of T (before, during and just after the commit).

Each request's addresses carry its number, so the aftermath is exact. (The app allows a
tenant 10,000 invitations an hour: every 9 requests get a tenant of their own.)

PASS needs: for every killed request, its invitations, outbox emails and
``invitation.created`` audit events are all there (1,000 each) or none; gunicorn
replaces each killed worker and answers again, and no request got a 5xx.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import time

import harness as h
import psutil

BATCH = 1000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=8, help="killed requests")
    parser.add_argument("--server", default=h.SHARED_SERVER, help="PostgreSQL server URL")
    return parser.parse_args()


def addresses(number: int) -> list[str]:
    return [f"kill-{number}-{i}@worker.example" for i in range(BATCH)]


def serving_worker(server: h.Gunicorn, local_port: int, timeout: float = 5.0) -> int | None:
    """The worker pid holding the connection that our ``local_port`` is the client end of."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in server.worker_pids():
            try:
                connections = psutil.Process(pid).net_connections(kind="tcp")
            except psutil.Error:
                continue
            if any(c.raddr and c.raddr.port == local_port for c in connections):
                return pid
        time.sleep(0.005)
    return None


def send_and_kill(server: h.Gunicorn, api_key: str, org_id: str, number: int, delay: float) -> dict:
    """The bulk request on our own connection; SIGKILL its worker ``delay`` s after sending."""
    body = json.dumps({"emails": addresses(number)})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    connection.connect()
    local_port = connection.sock.getsockname()[1]
    sent = time.monotonic()
    connection.request(
        "POST",
        f"/api/v1/orgs/{org_id}/invitations/bulk",
        body=body,
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
    )
    pid = serving_worker(server, local_port)
    found = time.monotonic() - sent
    if pid is not None:
        time.sleep(max(0.0, delay - (time.monotonic() - sent)))
        os.kill(pid, signal.SIGKILL)
    killed = time.monotonic() - sent
    try:
        response = connection.getresponse()
        status, _body = response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        status = f"no answer ({type(error).__name__})"
    finally:
        connection.close()
    return {
        "number": number,
        "pid": pid,
        "found_after": found,
        "killed_after": killed,
        "status": status,
    }


def counts(database: str, number: int) -> tuple[int, int, int]:
    pattern = f"kill-{number}-%"
    return h.query(
        database,
        """
        SELECT (SELECT count(*) FROM invitations WHERE email LIKE %(p)s),
               (SELECT count(*) FROM outbox_emails WHERE to_address LIKE %(p)s),
               (SELECT count(*) FROM audit_events
                 WHERE action = 'invitation.created' AND target_label LIKE %(p)s)
        """,
        {"p": pattern},
    )[0]


def main() -> int:
    h.stop_on_sigterm()
    args = parse_args()
    verdict = h.Verdict("fault: a gunicorn worker SIGKILLed mid-request (bulk invite of 1,000)")
    with (
        h.workdir("kill-fault") as tmp,
        h.fresh_database(args.server, "tenantry_kill") as database,
        h.Stack() as stack,
    ):
        env = h.app_env(database)  # no MAIL_SERVER: the emails stay in the outbox to count
        h.prepare_database(env)
        # Two warm requests measure T; then --kills killed ones; every 10 a new tenant.
        numbers = range(-1, args.kills + 1)
        slugs = {n: "acme" if n < 9 else f"kill{n // 10}" for n in numbers}
        keys = {
            slug: h.create_api_key(env) if slug == "acme" else h.new_tenant(env, slug)
            for slug in dict.fromkeys(slugs.values())
        }
        server = stack.run(h.Gunicorn(env, tmp, workers=4))
        orgs = {
            slug: h.ApiClient(server.url, key).create_org("Kill target")
            for slug, key in keys.items()
        }

        for n in (-1, 0):
            calibration = h.ApiClient(server.url, keys["acme"]).call(
                "POST", f"/orgs/{orgs['acme']}/invitations/bulk", {"emails": addresses(n)}
            )
            if calibration.status != 200 or calibration.json()["invited"] != BATCH:
                raise RuntimeError(f"calibration: {calibration.status} {calibration.text[:300]}")
        took = calibration.seconds
        h.log(f"one bulk invitation of {BATCH} takes {took:.2f} s")

        results = []
        for n in range(1, args.kills + 1):
            share = 0.05 + (1.05 - 0.05) * (n - 1) / max(1, args.kills - 1)
            slug = slugs[n]
            result = send_and_kill(server, keys[slug], orgs[slug], n, share * took)
            result["counts"] = counts(database, n)
            result["share"] = share
            results.append(result)
            h.log(
                f"#{n}: killed pid {result['pid']} {result['killed_after']:.2f} s in "
                f"({share:.0%} of T): answer {result['status']}, "
                f"invitations/emails/events {result['counts']}"
            )
            server.wait_for_workers(4)
            time.sleep(0.5)  # a new worker boots

        after = h.http("GET", f"{server.url}/t/acme/login")
        pids_after = server.wait_for_workers(4)
        statuses = server.status_counts()
        stats = server.control("show stats")
        whole = [r for r in results if r["counts"] == (BATCH, BATCH, BATCH)]
        none = [r for r in results if r["counts"] == (0, 0, 0)]
        partial = [r for r in results if r not in whole and r not in none]
        answered_but_missing = [r for r in results if r["status"] == 200 and r not in whole]
        verdict.figures.update(
            {
                "one bulk invitation of 1,000": f"{took:.2f} s (uninterrupted)",
                "killed requests": f"{len(results)}, kills at "
                + ", ".join(f"{r['killed_after']:.2f}" for r in results)
                + " s",
                "outcomes": f"{len(none)} left nothing, {len(whole)} complete "
                f"({sum(1 for r in whole if r['status'] == 200)} of them had answered 200 before "
                f"the kill), {len(partial)} partial",
                "answers to killed requests": json.dumps(
                    sorted({str(r["status"]) for r in results})
                ),
                "gunicorn": f"workers {pids_after}, spawned {stats.get('workers_spawned')} in all",
                "server statuses": json.dumps(dict(sorted(statuses.items()))),
            }
        )
        verdict.check(
            "the serving worker was found and killed every time",
            all(r["pid"] for r in results),
        )
        verdict.check(
            "each request: invitations, outbox emails and audit events all or none",
            not partial,
            "; ".join(f"#{r['number']}: {r['counts']}" for r in partial),
        )
        verdict.check("an answered request was kept whole", not answered_but_missing)
        verdict.check("the kills hit before the commit at least once", bool(none))
        verdict.check(
            "gunicorn replaced the workers and answers",
            after.status == 200 and len(pids_after) == 4,
        )
        verdict.check("no 5xx", not any(status >= 500 for status in statuses))
    return verdict.report()


if __name__ == "__main__":
    raise SystemExit(main())
