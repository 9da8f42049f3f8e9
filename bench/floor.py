"""The floor: a bare Flask + Jinja app serving pages captured from Tenantry, no database.

    FLOOR_PAGES=pages.json gunicorn -w 4 --pythonpath bench floor:app

``pages.json`` maps a page's name to its captured response: ``{"body": "...",
"content_type": "..."}``. Each page gets its own route, ``/floor/<n>`` in the file's
order, that renders the body back from an in-memory list of its lines through a Jinja
``{% for %}`` loop (a template loaded and compiled once, as Flask does for a real app),
with the same content type. So a page's floor costs what Flask, Jinja's loop and
sending the same bytes cost, without the database, sessions, forms or template logic;
bench/pages.py prints each page's throughput as a ratio to its floor's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import Flask, Response, render_template
from jinja2 import DictLoader
from markupsafe import Markup

TEMPLATE = "{% for line in lines %}{{ line }}{% endfor %}"


def path_for(index: int) -> str:
    return f"/floor/{index}"


def create_app(pages: dict[str, dict[str, str]]) -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"page.html": TEMPLATE})
    for index, (name, page) in enumerate(pages.items()):
        # Markup: the lines are the app's own HTML, as a real template's literal text is.
        lines = [Markup(line) for line in page["body"].splitlines(keepends=True)]  # noqa: S704
        content_type = page["content_type"]

        def view(lines: list[Markup] = lines, content_type: str = content_type) -> Response:
            return Response(render_template("page.html", lines=lines), content_type=content_type)

        app.add_url_rule(path_for(index), endpoint=f"page_{index}", view_func=view)
        app.logger.debug("floor %s for %s", path_for(index), name)
    return app


def load(path: str) -> dict[str, dict[str, str]]:
    return json.loads(Path(path).read_text())


app = create_app(load(os.environ["FLOOR_PAGES"])) if os.environ.get("FLOOR_PAGES") else None
