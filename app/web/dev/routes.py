import re

import sqlalchemy as sa
from flask import abort, make_response, request
from markupsafe import Markup, escape

from app.extensions import db
from app.models import OutboxEmail
from app.services.pagination import cursor_from, keyset_page
from app.web.dev import bp
from app.web.rendering import render

_URL = re.compile(r"https?://[^\s<>\"']+")
MAILBOX_PAGE = 25


def linkify(text: str) -> Markup:
    """Plain text with its links clickable (everything else escaped)."""
    parts, last = [], 0
    for match in _URL.finditer(text):
        parts.append(escape(text[last : match.start()]))
        url = escape(match.group(0))
        parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _links_open_the_app(html: str) -> str:
    """The email with its links aimed at the whole window: followed inside the frame, a
    link would load an app page there, which refuses to be framed (a broken frame)."""
    base = '<base target="_top">'
    head = re.search(r"<head[^>]*>", html, flags=re.IGNORECASE)
    if head is None:
        return base + html
    return html[: head.end()] + base + html[head.end() :]


@bp.get("/mail")
def mailbox():
    """Every queued email, newest (highest id) first, 25 a page by key."""
    page = keyset_page(
        sa.select(
            OutboxEmail.id,
            OutboxEmail.created_at,
            OutboxEmail.to_address,
            OutboxEmail.subject,
            OutboxEmail.status,
        ),
        [OutboxEmail.id],
        cursor=cursor_from(request.args, 1, types=(int,)),
        per_page=MAILBOX_PAGE,
        key_of=lambda row: (row.id,),
        descending=True,
    )
    return render("dev/mailbox.html", page=page)


@bp.get("/mail/<int:email_id>")
def message(email_id: int):
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        abort(404)
    return render("dev/message.html", email=email, text=linkify(email.text_body))


@bp.get("/mail/<int:email_id>/html")
def message_html(email_id: int):
    """The HTML part as the recipient's mail client would show it, framed by /dev/mail."""
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        abort(404)
    response = make_response(_links_open_the_app(email.html_body))
    # Emails carry inline styles and are shown inside our own page: relax just that.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
