"""One template, two shapes: a full page, or for a targeted htmx request one named block."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, make_response, render_template, request
from jinja2_fragments.flask import render_block

from app.extensions import htmx

F = TypeVar("F", bound=Callable[..., Any])
API_PREFIX = "/api/"


def returns_json(view: F) -> F:
    """Mark a page-side view that answers JSON (its errors are JSON too)."""
    view.returns_json = True  # type: ignore[attr-defined]
    return view


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def wants_json() -> bool:
    """The JSON API, or a view marked ``returns_json``: errors answer in JSON there."""
    if is_api_request():
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "returns_json", False))


def endpoint_expects(endpoint: str, argument: str) -> bool:
    """Does ``endpoint``'s URL take ``argument``? Remembered per app (its URL map is fixed
    once it serves): the tenant and org blueprints ask it for every ``url_for``."""
    known: dict[tuple[str, str], bool] = current_app.extensions.setdefault(
        "tenantry.endpoint_expects", {}
    )
    key = (endpoint, argument)
    if key not in known:
        known[key] = current_app.url_map.is_endpoint_expecting(endpoint, argument)
    return known[key]


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
