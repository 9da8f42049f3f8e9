"""Load test: 64 people for 2 minutes against gunicorn + PostgreSQL + a real mail worker.

    flock /tmp/tenantry-heavy.lock .venv/bin/python bench/load/load_test.py
    … [--users 64] [--duration 120] [--quick]   (--quick: 12 users, 15 s, for CI)

A fresh database on the shared PostgreSQL (127.0.0.1:5432, dropped afterwards), schema by
``flask db upgrade``, data by ``flask demo seed --orgs 2000 --members 10000``; gunicorn
with 4 workers and its control socket in a temporary folder; ``flask mail deliver --loop``
sending to the SMTP sink (its own process, recording to SQLite). locust (headless,
loopback only, bounded in time) runs ``locustfile.py``'s mixed workload.

PASS needs: no 5xx (server access log and client side), no other unexpected answer,
p95 over all requests under 200 ms; then, once the outbox is drained: every invitation
created during the run has exactly one email in the sink (matched by its link's token,
whose SHA-256 is the invitation's token_hash), every accepted invitation has exactly one
membership (org_id, accepted_user_id), no email failed, the mail worker still runs.

Everyone signs in once, while ramping up (--spawn-rate, 2 a second): a sign-in verifies an
argon2id hash, about 0.27 s of CPU here, so it is slower than 200 ms by design. Over two
minutes those are ~3 % of the requests and the p95 covers all requests; a 15 s --quick
run can't dilute them so, and holds them to a bound of their own (p95 under 1 s) while
everything else gets the 200 ms target (--p95-scope).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import time
from pathlib import Path

import harness as h


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=None, help="64 (12 with --quick)")
    parser.add_argument("--duration", type=int, default=120, help="seconds at full strength")
    parser.add_argument(
        "--quick", action="store_true", help="12 users, 15 s, think time 0.5-2 s (CI)"
    )
    parser.add_argument(
        "--spawn-rate",
        type=float,
        default=None,
        help="people signing in per second while ramping up (default 2)",
    )
    parser.add_argument("--warm-up", type=int, default=8, help="seconds of light load first")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--orgs", type=int, default=2000)
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--p95-ms", type=float, default=200.0, help="the p95 target")
    parser.add_argument(
        "--p95-scope",
        choices=("all", "no-hashing"),
        default=None,
        help="which requests the p95 target covers (all; no-hashing with --quick)",
    )
    parser.add_argument("--wait", default=None, help="think time MIN,MAX seconds (2,8)")
    parser.add_argument(
        "--accept-weight",
        type=int,
        default=None,
        help="task weight of accepting an emailed invitation (2; 8 with --quick)",
    )
    parser.add_argument("--server", default=h.SHARED_SERVER, help="PostgreSQL server URL")
    args = parser.parse_args()
    if args.quick:
        args.duration = 15
    args.users = args.users or (12 if args.quick else 64)
    args.spawn_rate = args.spawn_rate or 2.0
    args.p95_scope = args.p95_scope or ("no-hashing" if args.quick else "all")
    # A short run needs short think times, or the sign-ins would be most of its requests.
    args.wait = args.wait or ("0.5,2" if args.quick else "2,8")
    # A short run has few turns per person; at the full run's weight, some short runs
    # accepted no invitation at all and checked nothing about acceptances.
    args.accept_weight = args.accept_weight or (8 if args.quick else 2)
    # Everyone signs in while ramping up (argon2id: ~0.27 s of CPU each), then all of
    # them keep going for --duration; the stats cover both.
    args.ramp = int(args.users / args.spawn_rate + 0.999)
    return args


# Steps that hash or verify a password (argon2id, ~0.27 s of CPU here by design).
PASSWORD_STEPS = {"sign in (POST)", "accept by sign-up (POST)", "accept by sign-in (POST)"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def read_samples(path: Path) -> list[tuple[str, int, float]]:
    samples = []
    for line in path.read_text().splitlines():
        name, status, ms = line.split("\t")
        samples.append((name, int(status), float(ms)))
    return samples


def read_stats(prefix: Path) -> tuple[list[dict], list[dict]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        stats = list(csv.DictReader(handle))
    with open(f"{prefix}_failures.csv", newline="") as handle:
        failures = list(csv.DictReader(handle))
    return stats, failures


def run_locust(
    url: str, env: dict[str, str], prefix: Path, log: Path, *, users: int, rate: float, seconds: int
) -> int:
    command = [
        str(Path(h.PYTHON).parent / "locust"),
        "-f",
        str(h.LOAD_DIR / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(rate),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "15",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    with log.open("w") as handle:
        return subprocess.run(
            command,
            cwd=h.PROJECT_ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=seconds + 180,
        ).returncode


def main() -> int:
    args = parse_args()
    h.stop_on_sigterm()
    verdict = h.Verdict(
        f"load test: {args.users} users for {args.duration} s (after a {args.ramp} s ramp-up)"
    )
    with h.workdir("load") as tmp, h.fresh_database(args.server) as database, h.Stack() as stack:
        sink = h.SMTPSink(tmp)
        env = h.app_env(
            database,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(sink.port),
            # Every simulated person comes from 127.0.0.1: per-client limits would
            # throttle the test, not any one person. (scale_out.py proves the limits.)
            LOGIN_RATE_LIMIT="100000 per minute",
            API_RATE_LIMIT="100000 per minute",
        )
        h.log(f"database {database}: migrating and seeding {args.orgs} orgs / {args.members}…")
        seeded = h.prepare_database(env, orgs=args.orgs, members=args.members)
        key = h.create_api_key(env)
        accounts = h.load_accounts(database, args.users)
        (tmp / "accounts.json").write_text(json.dumps(accounts))
        stack.run(sink)
        server = stack.run(h.Gunicorn(env, tmp, workers=args.workers))
        worker = stack.run(h.MailWorker(env, tmp))
        h.log(f"seeded in {seeded:.0f} s; gunicorn {server.url} pids {server.worker_pids()}")

        run = f"r{int(time.time())}"
        since = time.time() - 1
        locust_env = dict(
            os.environ,
            LOAD_ACCOUNTS=str(tmp / "accounts.json"),
            LOAD_API_KEY=key,
            LOAD_SINK_DB=str(sink.db_path),
            LOAD_RUN=run,
            LOAD_WAIT=args.wait,
            LOAD_ACCEPT_WEIGHT=str(args.accept_weight),
            LOAD_SAMPLES=str(tmp / "samples.tsv"),
        )
        if args.warm_up:
            # Each worker compiles its templates on first use: a few people first, not
            # measured (their invitations are checked with the others all the same).
            h.log(f"warm-up: 4 users for {args.warm_up} s (not measured)…")
            warm_env = dict(locust_env, LOAD_RUN=f"{run}w", LOAD_SAMPLES=str(tmp / "warm.tsv"))
            run_locust(
                server.url,
                warm_env,
                tmp / "warm-up",
                tmp / "warm-up.log",
                users=4,
                rate=4,
                seconds=args.warm_up,
            )
        seconds = args.ramp + args.duration
        h.log(f"locust: {args.users} users ({args.spawn_rate}/s), {seconds} s in all…")
        started = time.monotonic()
        code = run_locust(
            server.url,
            locust_env,
            tmp / "locust",
            tmp / "locust.log",
            users=args.users,
            rate=args.spawn_rate,
            seconds=seconds,
        )
        elapsed = time.monotonic() - started
        h.log(f"locust finished (exit {code}) after {elapsed:.0f} s; draining the outbox…")
        outbox = h.wait_for_outbox(database, timeout=90)
        mail = h.invitations_vs_sink(database, sink.messages(), since)
        accepted, membership_problems = h.accepted_vs_memberships(database, since)
        statuses = server.status_counts()
        worker_alive = worker.alive()

        stats, failures = read_stats(tmp / "locust")
        total = next(row for row in stats if row["Name"] == "Aggregated")
        samples = read_samples(tmp / "samples.tsv")
        times = [ms for _name, _status, ms in samples]
        others = [ms for name, _status, ms in samples if name not in PASSWORD_STEPS]
        hashing = [ms for name, _status, ms in samples if name in PASSWORD_STEPS]
        requests = len(samples)
        server_5xx = sum(n for status, n in statuses.items() if status >= 500)
        client_5xx = sum(1 for _name, status, _ms in samples if status >= 500)
        no_answer = sum(1 for _name, status, _ms in samples if status == 0)
        failed = int(total["Failure Count"])
        p95 = percentile(times, 0.95)
        verdict.figures.update(
            {
                "setup": f"PostgreSQL, demo seed --orgs {args.orgs} --members {args.members} "
                f"({seeded:.0f} s), gunicorn --workers {args.workers}, 1 mail worker",
                "requests": f"{requests} in {seconds} s = {requests / seconds:.1f}/s "
                f"({args.users} users, think time {args.wait} s)",
                "latency, all requests": f"p50 {percentile(times, 0.5):.0f} ms, "
                f"p95 {p95:.0f} ms, p99 {percentile(times, 0.99):.0f} ms, max {max(times):.0f} ms",
                "latency, without password hashing": f"p50 {percentile(others, 0.5):.0f} ms, "
                f"p95 {percentile(others, 0.95):.0f} ms, p99 {percentile(others, 0.99):.0f} ms",
                "latency, sign-in/sign-up POSTs (argon2id)": f"{len(hashing)} requests, "
                f"p50 {percentile(hashing, 0.5):.0f} ms, p95 {percentile(hashing, 0.95):.0f} ms",
                "server statuses": json.dumps(dict(sorted(statuses.items()))),
                "invitations made during the run": mail.invitations,
                "accepted during the run": accepted,
                "outbox after drain": json.dumps(outbox),
                "emails in the sink": len(sink.messages()),
            }
        )
        print_table(stats)
        for failure in failures[:20]:
            print(f"   failure x{failure['Occurrences']}: {failure['Name']}: {failure['Error']}")
        verdict.check("locust ran to the end", code == 0 and requests > 0, f"exit {code}")
        verdict.check(
            "zero 5xx",
            server_5xx == 0 and client_5xx == 0 and no_answer == 0,
            f"server {server_5xx}, client {client_5xx}, no answer {no_answer}",
        )
        verdict.check("no unexpected answers", failed == 0, f"{failed} failures")
        if args.p95_scope == "all":
            verdict.check(f"p95 under {args.p95_ms:.0f} ms", p95 < args.p95_ms, f"{p95:.0f} ms")
        else:
            # A 15 s run can't dilute one sign-in per person the way two minutes do: there
            # the hashing steps are held to a bound of their own.
            share = len(hashing) / max(1, requests)
            p95_others, p95_hashing = percentile(others, 0.95), percentile(hashing, 0.95)
            verdict.check(
                f"p95 under {args.p95_ms:.0f} ms without the password hashing steps "
                f"({share:.0%} of this short run's requests)",
                p95_others < args.p95_ms,
                f"{p95_others:.0f} ms (all requests: {p95:.0f} ms)",
            )
            verdict.check(
                "p95 of the password hashing steps under 1000 ms",
                p95_hashing < 1000,
                f"{p95_hashing:.0f} ms",
            )
        verdict.check("invitations were made and accepted", mail.invitations > 0 and accepted > 0)
        verdict.check(
            "every invitation has exactly one email (by token)",
            not mail.missing and not mail.duplicated,
            f"{mail.emails_ok}/{mail.invitations} ok, {len(mail.missing)} missing, "
            f"{len(mail.duplicated)} duplicated",
        )
        verdict.check(
            "every accepted invitation has exactly one membership",
            not membership_problems,
            "; ".join(membership_problems[:5]),
        )
        verdict.check(
            "no email failed or is left",
            not outbox.get("failed") and not outbox.get("pending") and not outbox.get("sending"),
        )
        verdict.check("the mail worker is still running", worker_alive)
    return verdict.report()


def print_table(stats: list[dict]) -> None:
    print()
    print(
        f"   {'request':<38} {'count':>6} {'fail':>5} {'p50':>5} {'p95':>5} {'p99':>5} {'max':>6}"
    )
    for row in stats:
        print(
            f"   {row['Name'][:38]:<38} {row['Request Count']:>6} {row['Failure Count']:>5} "
            f"{row['50%']:>5} {row['95%']:>5} {row['99%']:>5} "
            f"{float(row['Max Response Time']):>6.0f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
