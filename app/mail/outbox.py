"""Queueing email: a row in the outbox, written in the transaction of the change.

``queue_email`` renders a plain-text and an HTML body from ``templates/emails/`` and
adds an ``OutboxEmail`` row (no network, no commit); ``app.mail.worker`` delivers it.
"""

from __future__ import annotations

import os
import re
from typing import Any

from flask import current_app, has_request_context, render_template, request, url_for

from app.extensions import db
from app.models import OutboxEmail, Tenant

_LINE_BREAKS = re.compile(r"[\r\n]+")


DEFAULT_PORT = "5000"


def development_origin() -> str:
    """What `make run` serves (on $PORT, 5000 unless set): the origin of links made on
    the command line when BASE_URL is not set."""
    port = os.environ.get("PORT", "")
    return f"http://127.0.0.1:{port if port.isdigit() else DEFAULT_PORT}"


def cli_origin() -> str:
    """The origin of links made outside a request: BASE_URL, else ``development_origin``."""
    return current_app.config.get("BASE_URL") or development_origin()


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an email: BASE_URL if configured, else this request's origin
    (or, from the command line, the development server's)."""
    base = current_app.config.get("BASE_URL")
    if has_request_context():
        return (base or request.host_url.rstrip("/")) + url_for(endpoint, **values)
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return cli_origin() + path


def one_line(text: str, limit: int = 200) -> str:
    """Header values are one line: a name with CR/LF in it can't inject headers."""
    return _LINE_BREAKS.sub(" ", text).strip()[:limit]


def queue_email(
    *,
    kind: str,
    to: str,
    subject: str,
    template: str,
    tenant: Tenant | None = None,
    flush: bool = True,
    **context: Any,
) -> OutboxEmail:
    email = OutboxEmail(
        tenant_id=tenant.id if tenant is not None else None,
        kind=kind,
        to_address=one_line(to, 254),
        subject=one_line(subject),
        text_body=render_template(f"emails/{template}.txt", tenant=tenant, **context),
        html_body=render_template(f"emails/{template}.html", tenant=tenant, **context),
    )
    db.session.add(email)
    if flush:
        db.session.flush()
    return email
