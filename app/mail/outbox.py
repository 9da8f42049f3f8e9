"""Queueing email: a row in the outbox, written in the transaction of the change.

``queue_email`` renders a plain-text and an HTML body from ``templates/emails/`` and
adds an ``OutboxEmail`` row (no network, no commit); ``app.mail.worker`` delivers it.
``EmailMerge`` queues one email to many people (a bulk invitation) at the cost of one.
"""

from __future__ import annotations

import os
import re
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, render_template, request, url_for
from markupsafe import escape

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


class EmailMerge:
    """One email to many recipients whose copies differ only in a few plain values (an
    address, a link): the templates are rendered once, with a stand-in string for each such
    value, and each copy replaces the stand-ins (HTML-escaped in the HTML body).

    So a template may only print such a value. The first copy is also rendered in full and
    compared, which catches a template that does more with it (a filter, a slice; not a
    condition only some values meet): then every copy is rendered in full. ``queue`` adds
    the rows in one statement (no commit).
    """

    def __init__(
        self, *, kind: str, subject: str, template: str, tenant: Tenant | None, **context: Any
    ) -> None:
        self.kind, self.subject, self.template = kind, one_line(subject), template
        self.context = {"tenant": tenant, **context}
        self.tenant_id = tenant.id if tenant is not None else None
        self.text, self.html = self._render(self.context)
        self.merges: bool | None = None  # not known until the first copy
        self.rows: list[dict[str, Any]] = []

    def _render(self, context: dict[str, Any]) -> tuple[str, str]:
        return (
            render_template(f"emails/{self.template}.txt", **context),
            render_template(f"emails/{self.template}.html", **context),
        )

    def _merged(self, replace: dict[str, str]) -> tuple[str, str]:
        text, html = self.text, self.html
        for stand_in, value in replace.items():
            text = text.replace(stand_in, value)
            html = html.replace(stand_in, str(escape(value)))
        return text, html

    def add(self, *, to: str, replace: dict[str, str], **context: Any) -> None:
        """A copy to ``to``: ``replace`` maps each stand-in to its value, ``context`` holds
        what differs from the stand-ins' context (for a copy rendered in full)."""
        if self.merges is False:
            text, html = self._render({**self.context, **context})
        else:
            text, html = self._merged(replace)
            if self.merges is None:
                in_full = self._render({**self.context, **context})
                self.merges = (text, html) == in_full
                text, html = in_full
        self.rows.append(
            {
                "tenant_id": self.tenant_id,
                "kind": self.kind,
                "to_address": one_line(to, 254),
                "subject": self.subject,
                "text_body": text,
                "html_body": html,
            }
        )

    def queue(self) -> None:
        if self.rows:
            db.session.execute(sa.insert(OutboxEmail), self.rows)
            self.rows = []
