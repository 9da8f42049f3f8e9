"""In-process mail delivery for `make run`, so a newcomer needs no SMTP server or worker.

With MAIL_SERVER set it sends over SMTP like ``flask mail deliver --loop``; without one
it hands each email to the development mailbox (/dev/mail) and marks it sent.
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask

from app import mail
from app.extensions import db

log = logging.getLogger(__name__)
INTERVAL_SECONDS = 2.0


def should_start(app: Flask) -> bool:
    # Only in the process that serves requests (the reloader's child), never under tests
    # or in one-off commands such as `flask db upgrade`.
    return app.debug and not app.testing and os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def start(app: Flask) -> threading.Thread:
    def to_dev_mailbox(_email) -> None:
        """Nothing to send: /dev/mail shows the outbox itself."""

    send = None if app.config.get("MAIL_SERVER") else to_dev_mailbox

    def run() -> None:
        stop = threading.Event()
        while not stop.wait(INTERVAL_SECONDS):
            try:
                with app.app_context():
                    mail.deliver_pending(send=send)
                    db.session.remove()
            except Exception:  # keep the dev server's mail flowing after a hiccup
                log.exception("development mail delivery failed; retrying")

    thread = threading.Thread(target=run, name="dev-mail-delivery", daemon=True)
    thread.start()
    return thread
