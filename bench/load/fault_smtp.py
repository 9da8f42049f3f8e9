"""Fault: the SMTP server is down for 30 s while invitations keep being made.

    flock /tmp/tenantry-heavy.lock .venv/bin/python bench/load/fault_smtp.py [--outage 30]
    … --quick   (a 10 s outage, for CI)

gunicorn + PostgreSQL (a fresh database on 127.0.0.1:5432) + ``flask mail deliver --loop``
+ the SMTP sink. A client invites two new addresses every ``--every`` seconds through the
JSON API, before, during and after the outage; the sink is stopped (SIGTERM) for
``--outage`` seconds, then started again on the same port and file. The worker retries
with its backoff (10 s, 20 s, 40 s…): nothing is faked, the script waits for it.

PASS needs: every invitation request answered 2xx, the outage too; then (within the
backoff) every invitation made has exactly one email in the sink, matched by the link's
token; retries did happen (some rows needed more than one attempt); nothing failed or is
left in the outbox; the mail worker still runs.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import harness as h


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=30.0, help="seconds the sink is down")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of inviting first")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of inviting after")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between invitations")
    parser.add_argument("--quick", action="store_true", help="a 10 s outage (CI)")
    parser.add_argument("--server", default=h.SHARED_SERVER, help="PostgreSQL server URL")
    args = parser.parse_args()
    if args.quick:
        args.outage, args.before, args.after = 10.0, 3.0, 3.0
    return args


class Inviter(threading.Thread):
    """Two new addresses per request, one request every ``every`` seconds, until stopped."""

    def __init__(self, api: h.ApiClient, org_id: str, every: float) -> None:
        super().__init__(daemon=True)
        self.api, self.org_id, self.every = api, org_id, every
        self.stop = threading.Event()
        self.answers: list[tuple[float, h.Answer]] = []
        self.invited = 0

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            emails = [f"smtp-{n}-{i}@outage.example" for i in (1, 2)]
            answer = self.api.call(
                "POST", f"/orgs/{self.org_id}/invitations/bulk", {"emails": emails}
            )
            self.answers.append((time.time(), answer))
            if answer.status == 200:
                self.invited += answer.json()["invited"]
            self.stop.wait(self.every)


def main() -> int:
    h.stop_on_sigterm()
    args = parse_args()
    verdict = h.Verdict(f"fault: SMTP down for {args.outage:.0f} s during invitations")
    with (
        h.workdir("smtp-fault") as tmp,
        h.fresh_database(args.server, "tenantry_smtp") as database,
        h.Stack() as stack,
    ):
        app = h.start_mailing_app(stack, tmp, database, workers=2)
        sink, worker, api = app.sink, app.worker, app.api
        inviter = Inviter(api, api.first_org(), args.every)
        since = time.time() - 1

        inviter.start()
        time.sleep(args.before)
        down_at = time.time()
        sink.stop()
        h.log(f"SMTP sink stopped; {inviter.invited} invited so far; down for {args.outage} s…")
        time.sleep(args.outage)
        invited_during = inviter.invited
        outbox_during = h.outbox_counts(database)
        sink.start()
        up_at = time.time()
        h.log(f"SMTP sink back; outbox {json.dumps(outbox_during)}")
        time.sleep(args.after)
        inviter.stop.set()
        inviter.join()

        outbox = h.wait_for_outbox(database, timeout=args.outage * 2 + 90)
        delivered_at = time.time()
        messages = sink.messages()
        mail = h.invitations_vs_sink(database, messages, since)
        during = [a for at, a in inviter.answers if down_at <= at <= up_at]
        bad = [a for _at, a in inviter.answers if not 200 <= a.status < 300]
        retried = h.query(
            database,
            "SELECT count(*), coalesce(max(attempts), 0) FROM outbox_emails WHERE attempts > 1",
        )[0]
        received_during = [m for m in messages if down_at < m["received_at"] < up_at]
        last_received = max((m["received_at"] for m in messages), default=up_at)
        verdict.figures.update(
            {
                "invitation requests": f"{len(inviter.answers)} ({len(during)} during the outage)",
                "invitations made": mail.invitations,
                "outbox at the end of the outage": json.dumps(outbox_during),
                "emails that needed retries": f"{retried[0]} (at most {retried[1]} attempts)",
                "last email arrived": f"{last_received - up_at:.1f} s after the sink was back",
                "outbox at the end": json.dumps(outbox),
                "waited for delivery": f"{delivered_at - up_at:.0f} s after the sink was back",
            }
        )
        verdict.check(
            "every invitation request answered 2xx, during the outage too",
            not bad and during,
            f"{len(bad)} not 2xx" + (f", e.g. {bad[0].status} {bad[0].error}" if bad else ""),
        )
        verdict.check(
            "invitations were made during the outage", invited_during > 0 and mail.invitations
        )
        verdict.check("nothing was received while the sink was down", not received_during)
        verdict.check("the worker retried", retried[0] > 0, f"{retried[0]} emails")
        verdict.check(
            "every invitation has exactly one email (by token)",
            not mail.missing and not mail.duplicated and mail.invitations > 0,
            f"{mail.emails_ok}/{mail.invitations} ok, {len(mail.missing)} missing, "
            f"{len(mail.duplicated)} duplicated (+{mail.stray_tokens} from before the run)",
        )
        verdict.check(
            "nothing failed or is left in the outbox",
            not outbox.get("failed") and not outbox.get("pending") and not outbox.get("sending"),
        )
        verdict.check("the mail worker is still running", worker.alive())
    return verdict.report()


if __name__ == "__main__":
    raise SystemExit(main())
