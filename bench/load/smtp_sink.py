"""An SMTP sink in its own process: every message it accepts becomes a row in SQLite.

    .venv/bin/python bench/load/smtp_sink.py --port 19025 --db /tmp/sink.sqlite3

The load and fault scripts start it, stop it (SIGTERM: an outage) and start it again on
the same file. One row per recipient: ``rcpt``, ``subject``, the invitation ``token`` taken
from the link in the text body (``/invitations/<token>``), when it arrived. It prints
``ready`` once it accepts connections, so a parent can wait for that line.
"""

from __future__ import annotations

import argparse
import re
import signal
import sqlite3
import threading
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    received_at REAL NOT NULL,
    mail_from TEXT NOT NULL,
    rcpt TEXT NOT NULL,
    subject TEXT NOT NULL,
    kind TEXT NOT NULL,
    token TEXT,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_messages_rcpt ON messages (rcpt);
CREATE INDEX IF NOT EXISTS ix_messages_token ON messages (token);
"""
INVITATION_LINK = re.compile(r"/invitations/([A-Za-z0-9_-]{20,100})")
RESET_LINK = re.compile(r"/password/reset/([A-Za-z0-9_-]{20,100})")


def connect(path: str) -> sqlite3.Connection:
    """The sink's database, for the sink and for readers (WAL: readers never block it)."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(SCHEMA)
    return connection


def text_of(message) -> str:
    part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
    return part.get_content() if part is not None else ""


class Recorder:
    def __init__(self, path: str) -> None:
        self.db = connect(path)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = text_of(message)
        link = INVITATION_LINK.search(body)
        kind = "invitation" if link else ("password_reset" if RESET_LINK.search(body) else "other")
        rows = [
            (
                time.time(),
                envelope.mail_from or "",
                rcpt.lower(),
                str(message.get("Subject", "")),
                kind,
                link.group(1) if link else None,
                len(envelope.content),
            )
            for rcpt in envelope.rcpt_tos
        ]
        with self.lock:
            self.db.executemany(
                "INSERT INTO messages (received_at, mail_from, rcpt, subject, kind, token, size)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file (created if missing)")
    args = parser.parse_args()

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    controller = Controller(Recorder(args.db), hostname=args.host, port=args.port)
    controller.start()  # returns once the port answers
    print("ready", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
