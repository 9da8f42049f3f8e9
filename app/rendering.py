"""One template, two shapes: a full page, or for a targeted htmx request one named block."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template
from jinja2_fragments.flask import render_block

from app.extensions import htmx


def wants_fragment() -> bool:
    """A real htmx swap: not boosted navigation, not a history restore."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(
    template: str, *, block: str | None = None, status: int = 200, **context: Any
) -> Response:
    if block is not None and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def htmx_redirect(location: str) -> Response:
    """Send the browser (not just the swap target) to ``location``."""
    response = make_response("", 204)
    response.headers["HX-Redirect"] = location
    return response
