"""What the load, fault and scale-out scripts share: the pieces of a production-like
deployment on loopback, each a real process, and the checks run afterwards.

- a database: a fresh one on the shared PostgreSQL (created and dropped by the script),
  or a throwaway cluster of our own (``Cluster``) when a script must restart it;
- the app: ``flask --app wsgi db upgrade`` and ``demo seed``, then gunicorn with its
  control socket in a temporary folder;
- mail: ``flask --app wsgi mail deliver --loop`` delivering to ``smtp_sink.py``, an
  aiosmtpd process that records every message in SQLite;
- checks against the database and the sink: every invitation created has exactly one
  email carrying its token, every accepted invitation has exactly one membership.

Only the standard library, psycopg (the app's own driver) and the sink's aiosmtpd: the
scripts run with the project's venv, ``.venv/bin/python bench/load/<script>.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import client as http_client
from pathlib import Path

import psycopg
from psycopg import sql

LOAD_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = LOAD_DIR.parent.parent
PYTHON = sys.executable
SHARED_SERVER = os.environ.get("LOAD_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
APP_PORTS = range(19000, 20000)
CLUSTER_PORTS = range(55400, 55500)
SECRET_KEY = "load-test-secret-key-not-for-production"  # noqa: S105 - a throwaway deployment
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - printed by `demo seed` on purpose
HEAVY_LOCK = "/tmp/tenantry-heavy.lock"  # noqa: S108 - the machine-wide convention


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when our script dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_on_sigterm() -> None:
    """SIGTERM (a CI timeout, a kill) unwinds like Ctrl+C, so every finally block runs:
    processes stopped, the database dropped, the throwaway cluster removed."""

    def handler(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port(ports: range = APP_PORTS) -> int:
    """A port of ours that nothing listens on (checked by binding it)."""
    candidates = list(ports)
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answers on 127.0.0.1:{port} after {timeout:.0f} s")


def sha256_hex(token: str) -> str:
    """How the app stores a token (app/tokens.py): SHA-256 hex of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# --- PostgreSQL ------------------------------------------------------------------------


def sqlalchemy_url(libpq_url: str) -> str:
    return libpq_url.replace("postgresql://", "postgresql+psycopg://", 1)


@contextlib.contextmanager
def fresh_database(server: str = SHARED_SERVER, prefix: str = "tenantry_load") -> Iterator[str]:
    """A new empty database on ``server`` for this run; dropped afterwards (FORCE)."""
    name = f"{prefix}_{int(time.time())}_{os.getpid()}"
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


class Cluster:
    """A throwaway PostgreSQL cluster of our own (initdb + pg_ctl), so that restarting it
    harms no one. As root it runs as the ``postgres`` user (initdb refuses root)."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pg"
        self.data = self.dir / "data"
        self.port = free_port(CLUSTER_PORTS)
        self.logfile = self.dir / "postgres.log"
        self.as_postgres = os.geteuid() == 0

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        return subprocess.run(
            [*prefix, *command], check=check, capture_output=True, text=True, timeout=120
        )

    def init(self) -> None:
        self.dir.mkdir(parents=True)
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        )
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.logfile),
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-m", mode, "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._run(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-w",
                "-m",
                "immediate",
                "stop",
                check=False,
            )
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the app's processes -----------------------------------------------------------------


def app_env(database_url: str, **overrides: str) -> dict[str, str]:
    """Production-like: no debug, a fixed SECRET_KEY, every setting the app reads given
    explicitly (an empty value counts as unset) so a developer's .env can't leak in."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": sqlalchemy_url(database_url),
            "SECRET_KEY": SECRET_KEY,
            "FLASK_DEBUG": "0",
            "FLASK_ENV": "production",
            "FLASK_SKIP_DOTENV": "1",
            "BASE_URL": "",
            "MAIL_SERVER": "",
            "MAIL_PORT": "25",
            "MAIL_USERNAME": "",
            "MAIL_PASSWORD": "",
            "MAIL_USE_TLS": "0",
            "MAIL_USE_SSL": "0",
            "MAIL_DEFAULT_SENDER": "Tenantry <no-reply@tenantry.test>",
            "RATELIMIT_STORAGE_URI": "memory://",
            "TRUSTED_PROXIES": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(overrides)
    return env


def flask(*args: str, env: dict[str, str], timeout: float = 600) -> str:
    """``flask --app wsgi …``; its stdout, or RuntimeError with both streams."""
    result = subprocess.run(
        [PYTHON, "-m", "flask", "--app", "wsgi", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"`flask {' '.join(args)}` exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def prepare_database(env: dict[str, str], *, orgs: int = 0, members: int = 0) -> float:
    """Schema and demo data through the CLI; returns the seconds it took."""
    started = time.monotonic()
    flask("db", "upgrade", env=env)
    seed = ["demo", "seed"] + (["--orgs", str(orgs), "--members", str(members)] if orgs else [])
    flask(*seed, env=env)
    return time.monotonic() - started


def create_api_key(env: dict[str, str], tenant: str = "acme", name: str = "load") -> str:
    return flask("api-keys", "create", "--tenant", tenant, "--name", name, env=env).strip()


class Process:
    """A child process with its output in a file; stopped by its own pid only."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.logfile = logdir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        handle = self.logfile.open("ab")
        self.popen = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        handle.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 20.0, sig: int = signal.SIGTERM) -> int | None:
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def output(self) -> str:
        return self.logfile.read_text(errors="replace") if self.logfile.exists() else ""


class SMTPSink(Process):
    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.db_path = workdir / "sink.sqlite3"
        super().__init__(
            "smtp-sink",
            [
                PYTHON,
                str(LOAD_DIR / "smtp_sink.py"),
                "--port",
                str(self.port),
                "--db",
                str(self.db_path),
            ],
            dict(os.environ, PYTHONUNBUFFERED="1"),
            workdir,
        )

    def start(self) -> SMTPSink:
        super().start()
        deadline = time.monotonic() + 30
        while "ready" not in self.output():
            if not self.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the SMTP sink did not start:\n{self.output()}")
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 20.0, sig: int = signal.SIGTERM) -> int | None:
        code = super().stop(timeout, sig)
        # The next start appends to the same log: forget this start's "ready".
        self.logfile.write_text(self.output().replace("ready", "stopped"))
        return code

    def messages(self) -> list[dict]:
        if not self.db_path.exists():
            return []
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=30)) as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute("SELECT * FROM messages ORDER BY id")]


class Gunicorn(Process):
    """gunicorn serving wsgi:app, its control socket in the run's temporary folder."""

    def __init__(
        self,
        env: dict[str, str],
        workdir: Path,
        *,
        workers: int = 4,
        name: str = "gunicorn",
        port: int | None = None,
        extra: list[str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.control_socket = workdir / f"{name}.ctl"
        command = [
            str(Path(PYTHON).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--control-socket",
            str(self.control_socket),
            "--timeout",
            "30",
            "--graceful-timeout",
            "10",
            "--access-logfile",
            "-",
            "--access-logformat",
            '%(h)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s',
            *(extra or []),
            "wsgi:app",
        ]
        super().__init__(name, command, env, workdir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        super().start()
        deadline = time.monotonic() + 60
        while True:
            if not self.alive():
                raise RuntimeError(f"gunicorn exited:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s:\n{self.output()}")
            time.sleep(0.2)
        self.wait_for_workers()
        return self

    def control(self, command: str, timeout: float = 10.0) -> dict:
        """A command over the control socket (gunicorn's own client), e.g. 'show workers'.

        The arbiter closes the socket around every fork and opens it again (the file is
        gone meanwhile), so while it replaces a worker, a few tries are normal."""
        from gunicorn.ctl.client import ControlClient, ControlClientError

        deadline = time.monotonic() + timeout
        while True:
            try:
                with ControlClient(str(self.control_socket), timeout=10) as client:
                    return client.send_command(command)
            except ControlClientError:
                if time.monotonic() > deadline or not self.alive():
                    raise
                time.sleep(0.05)

    def worker_pids(self) -> list[int]:
        # ("booted" is the worker's own flag: the arbiter's copy stays False.)
        return [worker["pid"] for worker in self.control("show workers")["workers"]]

    def wait_for_workers(self, count: int | None = None, timeout: float = 60) -> list[int]:
        wanted = count or int(self.command[self.command.index("--workers") + 1])
        deadline = time.monotonic() + timeout
        while True:
            try:
                pids = self.worker_pids()
            except (OSError, RuntimeError, ValueError):
                pids = []
            if len(pids) >= wanted:
                return pids
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(pids)} of {wanted} gunicorn workers booted")
            time.sleep(0.2)

    def status_counts(self) -> dict[int, int]:
        """Responses by status, from the access log."""
        counts: dict[int, int] = {}
        for line in self.output().splitlines():
            parts = line.split('" ', 1)
            if len(parts) == 2 and parts[1][:3].isdigit():
                status = int(parts[1][:3])
                counts[status] = counts.get(status, 0) + 1
        return counts


class MailWorker(Process):
    def __init__(self, env: dict[str, str], workdir: Path, name: str = "mail-worker") -> None:
        super().__init__(
            name,
            [PYTHON, "-m", "flask", "--app", "wsgi", "mail", "deliver", "--loop"],
            env,
            workdir,
        )

    def sent(self) -> int:
        """Messages this worker reported sent ("sent N, retrying R, failed F" lines)."""
        total = 0
        for line in self.output().splitlines():
            if line.startswith("sent "):
                total += int(line.split()[1].rstrip(","))
        return total


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"tenantry-{prefix}-"))
    path.chmod(0o755)  # the postgres user must reach a cluster inside it
    keep = os.environ.get("LOAD_KEEP_TMP") == "1"
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path} (LOAD_KEEP_TMP=1)")
        else:
            shutil.rmtree(path, ignore_errors=True)


class Stack(contextlib.ExitStack):
    """Processes started in order, stopped in reverse even when a check fails."""

    def run(self, process: Process) -> Process:
        self.callback(process.stop)  # first: a start that fails half-way is stopped too
        process.start()
        return process


# --- checks ----------------------------------------------------------------------------


@dataclass
class Verdict:
    """The named criteria of a run; PASS only if every one holds."""

    title: str
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, bool(ok), detail))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _name, ok, _detail in self.checks)

    def report(self) -> int:
        print()
        print(f"== {self.title}")
        for name, value in self.figures.items():
            print(f"   {name}: {value}")
        for name, ok, detail in self.checks:
            print(f"   [{'ok' if ok else 'FAILED'}] {name}{': ' + detail if detail else ''}")
        print(f"{'PASS' if self.passed else 'FAIL'}: {self.title}", flush=True)
        return 0 if self.passed else 1


def query(database_url: str, statement: str, params: tuple | dict = ()) -> list[tuple]:
    with psycopg.connect(database_url, connect_timeout=10) as conn:
        return list(conn.execute(statement, params).fetchall())  # type: ignore[arg-type]


def outbox_counts(database_url: str) -> dict[str, int]:
    return dict(query(database_url, "SELECT status, count(*) FROM outbox_emails GROUP BY status"))


def wait_for_outbox(
    database_url: str, timeout: float, *, quiet: bool = False, alive=None, leave_claimed=False
) -> dict[str, int]:
    """Until nothing is pending or being sent (or ``timeout``, or ``alive()`` turns false);
    the last counts. ``leave_claimed``: rows a dead worker still holds don't count."""
    deadline = time.monotonic() + timeout
    last_said = 0.0
    while True:
        counts = outbox_counts(database_url)
        waiting = counts.get("pending", 0) + (0 if leave_claimed else counts.get("sending", 0))
        if not waiting or time.monotonic() > deadline or (alive and not alive()):
            return counts
        if not quiet and time.monotonic() - last_said > 10:
            log(f"outbox: {json.dumps(counts)}; waiting for delivery…")
            last_said = time.monotonic()
        time.sleep(0.5)


@dataclass
class MailAudit:
    invitations: int
    emails_ok: int
    missing: list[str]
    duplicated: dict[str, int]
    stray_tokens: int


def invitations_vs_sink(
    database_url: str, messages: list[dict], since: float, *, where: str = "TRUE"
) -> MailAudit:
    """Every invitation created since ``since`` (epoch seconds) has exactly one email in
    the sink whose link's token hashes to its token_hash (a resend replaces the hash, so
    it is the live link that is matched). Messages not matching one are ``stray``."""
    rows = query(
        database_url,
        "SELECT public_id, token_hash FROM invitations "  # noqa: S608 - ``where`` is ours
        f"WHERE created_at >= to_timestamp(%s) AND ({where})",
        (since,),
    )
    by_hash: dict[str, int] = {}
    for message in messages:
        if message.get("token"):
            digest = sha256_hex(message["token"])
            by_hash[digest] = by_hash.get(digest, 0) + 1
    wanted = {token_hash for _public_id, token_hash in rows}
    missing = [public_id for public_id, token_hash in rows if token_hash not in by_hash]
    duplicated = {
        public_id: by_hash[token_hash]
        for public_id, token_hash in rows
        if by_hash.get(token_hash, 0) > 1
    }
    return MailAudit(
        invitations=len(rows),
        emails_ok=sum(1 for _p, token_hash in rows if by_hash.get(token_hash) == 1),
        missing=missing,
        duplicated=duplicated,
        stray_tokens=sum(1 for digest in by_hash if digest not in wanted),
    )


def accepted_vs_memberships(database_url: str, since: float) -> tuple[int, list[str]]:
    """Accepted invitations (responded since ``since``) whose (org_id, accepted_user_id)
    does not have exactly one membership; returns (accepted, problems)."""
    rows = query(
        database_url,
        """
        SELECT i.public_id, count(m.user_id)
        FROM invitations i
        LEFT JOIN memberships m ON m.org_id = i.org_id AND m.user_id = i.accepted_user_id
        WHERE i.status = 'accepted' AND i.responded_at >= to_timestamp(%s)
        GROUP BY i.public_id
        """,
        (since,),
    )
    problems = [f"{public_id}: {count} memberships" for public_id, count in rows if count != 1]
    return len(rows), problems


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def load_accounts(database_url: str, count: int, existing_per_account: int = 20) -> list[dict]:
    """``count`` generated people (``demo seed --orgs``), each an owner or admin of a
    different generated org, the orgs with the most members first; each with a few other
    tenant people who are not in that org yet, to invite."""
    rows = query(
        database_url,
        """
        SELECT u.email, o.slug, o.public_id, o.id, u.id
        FROM memberships m
        JOIN users u ON u.id = m.user_id
        JOIN organizations o ON o.id = m.org_id
        WHERE m.role IN ('owner', 'admin') AND o.deleted_at IS NULL AND u.is_active
          AND u.email LIKE 'person%%'
        ORDER BY (SELECT count(*) FROM memberships x WHERE x.org_id = o.id) DESC, o.id, u.id
        """,
    )
    accounts: list[dict] = []
    used_users: set[int] = set()
    used_orgs: set[int] = set()
    for email, slug, public_id, org_id, user_id in rows:
        if user_id in used_users or org_id in used_orgs:
            continue
        used_users.add(user_id)
        used_orgs.add(org_id)
        accounts.append(
            {
                "n": len(accounts),
                "email": email,
                "org_slug": slug,
                "org_id": public_id,
                "_org": org_id,
            }
        )
        if len(accounts) == count:
            break
    if len(accounts) < count:
        raise RuntimeError(f"only {len(accounts)} generated orgs have an owner or admin")
    people = [
        email
        for (email,) in query(
            database_url,
            "SELECT email FROM users WHERE email LIKE 'person%%' AND is_active ORDER BY id",
        )
    ]
    members_of: dict[int, set[str]] = {}
    for org_id, email in query(
        database_url,
        """
        SELECT c.descendant_id, u.email FROM organization_closure c
        JOIN memberships m ON m.org_id = c.ancestor_id JOIN users u ON u.id = m.user_id
        WHERE c.descendant_id = ANY(%s)
        """,
        ([account["_org"] for account in accounts],),
    ):
        members_of.setdefault(org_id, set()).add(email)
    rng = random.Random(7)
    for account in accounts:
        inside = members_of.get(account.pop("_org"), set())
        candidates = rng.sample(people, min(len(people), existing_per_account * 3))
        account["existing"] = [p for p in candidates if p not in inside][:existing_per_account]
    return accounts


# --- talking to the app ------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    started: float = 0.0
    seconds: float = 0.0

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def http(
    method: str,
    url: str,
    *,
    json_body=None,
    form: dict | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """One request, no redirects followed; HTTP errors are answers, not exceptions."""
    headers = dict(headers or {})
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    started = time.time()
    try:
        with opener.open(request, timeout=timeout) as response:
            return Answer(
                response.status,
                response.read(),
                dict(response.headers),
                "",
                started,
                time.time() - started,
            )
    except urllib.error.HTTPError as error:
        return Answer(
            error.code, error.read(), dict(error.headers), "", started, time.time() - started
        )
    except (OSError, http_client.HTTPException) as error:
        return Answer(
            0, b"", {}, f"{type(error).__name__}: {error}", started, time.time() - started
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class ApiClient:
    def __init__(self, base_url: str, key: str) -> None:
        self.base = f"{base_url}/api/v1"
        self.key = key

    def call(self, method: str, path: str, body=None, timeout: float = 60) -> Answer:
        return http(
            method,
            self.base + path,
            json_body=body,
            timeout=timeout,
            headers={"Authorization": f"Bearer {self.key}"},
        )

    def first_org(self) -> str:
        answer = self.call("GET", "/orgs?limit=1")
        if answer.status != 200 or not answer.json()["data"]:
            raise RuntimeError(f"no org to invite to: {answer.status} {answer.text[:200]}")
        return answer.json()["data"][0]["id"]

    def create_org(self, name: str) -> str:
        answer = self.call("POST", "/orgs", {"name": name})
        if answer.status != 201:
            raise RuntimeError(f"creating an org failed: {answer.status} {answer.text[:200]}")
        return answer.json()["id"]


def new_tenant(env: dict[str, str], slug: str) -> str:
    """A tenant with an owner (`flask tenants create`) and an API key; returns the key."""
    flask(
        "tenants",
        "create",
        "--name",
        f"Load {slug}",
        "--slug",
        slug,
        "--owner-email",
        f"owner@{slug}.example",
        "--owner-password",
        DEMO_PASSWORD,
        env=env,
    )
    return create_api_key(env, tenant=slug)


@dataclass
class MailingApp:
    """The app on the demo data behind gunicorn, a mail worker, an SMTP sink, and an API
    client with a key of its own."""

    env: dict[str, str]
    sink: SMTPSink
    server: Gunicorn
    worker: MailWorker
    api: ApiClient


def start_mailing_app(stack: Stack, tmp: Path, database: str, *, workers: int) -> MailingApp:
    sink = SMTPSink(tmp)
    env = app_env(database, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(sink.port))
    prepare_database(env)
    api_key = create_api_key(env)
    stack.run(sink)
    server = stack.run(Gunicorn(env, tmp, workers=workers))
    worker = stack.run(MailWorker(env, tmp))
    return MailingApp(env, sink, server, worker, ApiClient(server.url, api_key))
