"""Fault: PostgreSQL restarts under load; the app recovers by itself, nothing half-done.

    flock /tmp/tenantry-heavy.lock .venv/bin/python bench/load/fault_postgres.py [--down 2]

A throwaway PostgreSQL cluster of our own (initdb + pg_ctl on a port in 55400-55499, as
the postgres user when root), so stopping it harms no one; gunicorn (4 workers), the mail
worker and the SMTP sink as in production. Client threads keep making changes and reading:
bulk invitations of ``--batch`` new addresses through the JSON API (each request's
addresses carry its number), reads of the API and of a page. After ``--before`` seconds,
``pg_ctl stop -m fast`` (every connection dies, mid-transaction or idle in the pool),
``--down`` seconds with no database, ``pg_ctl start``.

PASS needs: no failure before the stop; after the database is back, a request succeeds
within 5 s and every request started 5 s after it succeeds (pool_pre_ping replaces the
dead pooled connections; nothing restarts the app); for every bulk request its
invitations, outbox emails and ``invitation.created`` audit events are all there or none
(all there when it was answered 200); every invitation gets exactly one email; the mail
worker survives the restart. If it died, the report says how, and a replacement is
started (as a supervisor such as systemd would) to show what then becomes of the mail.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time

import harness as h

RECOVERY_SECONDS = 5.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", type=float, default=2.0, help="seconds without a database")
    parser.add_argument("--before", type=float, default=8.0, help="seconds of load first")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of load after")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--batch", type=int, default=20, help="addresses per bulk invitation")
    return parser.parse_args()


class Client(threading.Thread):
    counter = iter(range(1, 10**9))
    lock = threading.Lock()

    def __init__(self, n: int, base_url: str, api: h.ApiClient, org_id: str, batch: int) -> None:
        super().__init__(daemon=True)
        self.n, self.base, self.api, self.org_id, self.batch = n, base_url, api, org_id, batch
        self.stop = threading.Event()
        self.log: list[tuple[str, h.Answer, int | None]] = []  # (kind, answer, bulk number)

    def run(self) -> None:
        kinds = ["bulk", "read", "page", "bulk", "read"]
        i = self.n
        while not self.stop.is_set():
            kind = kinds[i % len(kinds)]
            i += 1
            if kind == "bulk":
                with Client.lock:
                    number = next(Client.counter)
                emails = [f"pg-{number}-{k}@restart.example" for k in range(self.batch)]
                path = f"/orgs/{self.org_id}/invitations/bulk"
                self.log.append(("bulk", self.api.call("POST", path, {"emails": emails}), number))
            elif kind == "read":
                self.log.append(("read", self.api.call("GET", "/orgs?limit=25"), None))
            else:
                self.log.append(("page", h.http("GET", f"{self.base}/t/acme/login"), None))
            self.stop.wait(0.1)


def settle(database: str, quiet_for: float = 3.0, timeout: float = 30.0) -> dict[str, int]:
    """Outbox counts once they stop changing (the replacement finished its batch)."""
    last, since, deadline = h.outbox_counts(database), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() - since < quiet_for and time.monotonic() < deadline:
        time.sleep(0.5)
        counts = h.outbox_counts(database)
        if counts != last:
            last, since = counts, time.monotonic()
    return last


def delivered_but_claimed(database: str, messages: list[dict]) -> int:
    """Rows still 'sending' whose email is in the sink: sent, then the worker died before
    it could mark them sent. When their claim expires they are sent again."""
    tokens = {h.sha256_hex(m["token"]) for m in messages if m.get("token")}
    rows = h.query(
        database,
        "SELECT i.token_hash FROM outbox_emails o JOIN invitations i ON i.email = o.to_address "
        "WHERE o.status = 'sending'",
    )
    return sum(1 for (token_hash,) in rows if token_hash in tokens)


def by_number(database: str, statement: str) -> dict[int, int]:
    return {int(number): count for number, count in h.query(database, statement)}


def main() -> int:
    h.stop_on_sigterm()
    args = parse_args()
    verdict = h.Verdict(f"fault: PostgreSQL restarted under load ({args.down:.0f} s down)")
    with h.workdir("pg-fault") as tmp, h.Stack() as stack:
        cluster = h.Cluster(tmp)
        stack.callback(cluster.destroy)
        cluster.init()
        h.log(f"own PostgreSQL cluster on 127.0.0.1:{cluster.port}")
        with h.fresh_database(cluster.server_url, "tenantry_pg") as database:
            app = h.start_mailing_app(stack, tmp, database, workers=4)
            env, sink, server, worker, api = app.env, app.sink, app.server, app.worker, app.api
            org_id = api.first_org()
            since = time.time() - 1
            clients = [Client(n, server.url, api, org_id, args.batch) for n in range(args.threads)]
            for client in clients:
                client.start()
            time.sleep(args.before)
            stopping = time.time()
            h.log("pg_ctl stop -m fast…")
            cluster.stop("fast")
            time.sleep(args.down)
            cluster.start()
            up = time.time()
            h.log(f"PostgreSQL is back after {up - stopping:.1f} s; load goes on {args.after} s")
            time.sleep(args.after)
            for client in clients:
                client.stop.set()
            for client in clients:
                client.join()

            outbox = h.wait_for_outbox(database, timeout=120, alive=worker.alive)
            worker_alive = worker.alive()
            worker_tail = re.sub(r"\s+", " ", worker.output()[-600:]) if not worker_alive else ""
            stuck = 0
            if not worker_alive:
                h.log("the mail worker died; starting a replacement, as a supervisor would…")
                stack.run(h.MailWorker(env, tmp, name="mail-worker-replacement"))
                outbox = h.wait_for_outbox(database, timeout=120, leave_claimed=True)
                outbox = settle(database)
                stuck = outbox.get("sending", 0)
            answers = [(kind, a, num) for client in clients for kind, a, num in client.log]
            before = [a for _k, a, _n in answers if a.started + a.seconds < stopping]
            failed_before = [a for a in before if not 200 <= a.status < 300]
            after = [a for _k, a, _n in answers if a.started >= up]
            first_ok = min(
                (a.started + a.seconds for a in after if 200 <= a.status < 300), default=None
            )
            failed_after = sum(1 for a in after if not 200 <= a.status < 300)
            late = [a for a in after if a.started >= up + RECOVERY_SECONDS]
            late_failed = [a for a in late if not 200 <= a.status < 300]
            failed = [a for _k, a, _n in answers if not 200 <= a.status < 300]
            statuses: dict[str, int] = {}
            for _k, a, _n in answers:
                key = str(a.status) if a.status else "no answer"
                statuses[key] = statuses.get(key, 0) + 1

            invitations = by_number(
                database,
                "SELECT substring(email from '^pg-([0-9]+)-'), count(*) FROM invitations "
                "WHERE email LIKE 'pg-%%' GROUP BY 1",
            )
            emails = by_number(
                database,
                "SELECT substring(to_address from '^pg-([0-9]+)-'), count(*) FROM outbox_emails "
                "WHERE to_address LIKE 'pg-%%' GROUP BY 1",
            )
            events = by_number(
                database,
                "SELECT substring(target_label from '^pg-([0-9]+)-'), count(*) FROM audit_events "
                "WHERE action = 'invitation.created' AND target_label LIKE 'pg-%%' GROUP BY 1",
            )
            bulk = [(a, num) for kind, a, num in answers if kind == "bulk"]
            partial, lost = [], []
            for answer, number in bulk:
                counts = (invitations.get(number, 0), emails.get(number, 0), events.get(number, 0))
                if counts not in ((0, 0, 0), (args.batch,) * 3):
                    partial.append(f"#{number} answered {answer.status or 'nothing'}: {counts}")
                elif answer.status == 200 and counts != (args.batch,) * 3:
                    lost.append(f"#{number} answered 200 but {counts}")
            outcomes = {"all": 0, "none": 0}
            for answer, number in bulk:
                if not 200 <= answer.status < 300:
                    outcomes["all" if invitations.get(number) else "none"] += 1
            mail = h.invitations_vs_sink(database, sink.messages(), since)

            verdict.figures.update(
                {
                    "requests": f"{len(answers)}: {json.dumps(statuses)}",
                    "database down": f"{up - stopping:.1f} s (stop -m fast, {args.down} s, start)",
                    "failed requests": f"{len(failed)}, of which {len(failed_before)} before "
                    f"the stop, {failed_after} started after it was back",
                    "first success after it was back": (
                        f"{first_ok - up:.2f} s" if first_ok else "none"
                    ),
                    "bulk requests": f"{len(bulk)} x {args.batch} addresses; failed ones left "
                    f"{outcomes['none']} with nothing and {outcomes['all']} complete",
                    "invitations": f"{sum(invitations.values())}, emails delivered "
                    f"{mail.emails_ok}, outbox {json.dumps(outbox)}",
                }
            )
            verdict.check("no failure before the restart", not failed_before and before)
            verdict.check(
                f"a request succeeds within {RECOVERY_SECONDS:.0f} s of the database being back",
                first_ok is not None and first_ok - up <= RECOVERY_SECONDS,
            )
            verdict.check(
                f"every request started {RECOVERY_SECONDS:.0f} s after it was back succeeds",
                late and not late_failed,
                f"{len(late_failed)} of {len(late)} failed"
                + (f", e.g. {late_failed[0].status} {late_failed[0].error}" if late_failed else ""),
            )
            verdict.check(
                "each bulk request: invitations, outbox emails and audit events all or none",
                not partial,
                "; ".join(partial[:5]),
            )
            verdict.check(
                "every request answered 200 was kept whole", not lost, "; ".join(lost[:5])
            )
            if stuck:
                verdict.figures["with a replacement worker"] = (
                    f"{mail.emails_ok} delivered once; {stuck} still 'sending', claimed by the "
                    "dead worker until its claim expires (CLAIM_SECONDS = 300 s); "
                    f"{delivered_but_claimed(database, sink.messages())} of those were "
                    "delivered already (and will be sent again then)"
                )
            verdict.check(
                "every invitation has exactly one email (by token)",
                not mail.missing and not mail.duplicated and mail.invitations > 0,
                f"{mail.emails_ok}/{mail.invitations} ok, {len(mail.missing)} missing, "
                f"{len(mail.duplicated)} duplicated",
            )
            verdict.check(
                "the mail worker survived the restart", worker_alive, worker_tail or "running"
            )
    return verdict.report()


if __name__ == "__main__":
    raise SystemExit(main())
