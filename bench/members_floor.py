"""The floor of the members page: bare Flask + Jinja rendering 50 members from memory.

    gunicorn -w 2 --pythonpath bench members_floor:app

What a members page costs with no database, no session, no tenant and no permissions:
one route that renders a complete page (a layout with a header, a search form, a table
of 50 members with name, email, role, where the role comes from and since when, a pager)
from a list of rows built once at start-up. ``?q=`` and ``?after=`` are echoed into the
form and the pager, so the search and a deep page cost what the first page does.
bench/compare_members.py sets Tenantry's members page against it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from flask import Flask, render_template, request
from jinja2 import DictLoader

ROWS = 50
FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas")
LAST = ("Andersen", "Baptiste", "Chen", "Dubois", "Okafor", "Petrov", "Rossi", "Tanaka")
ROLES = ("Member", "Viewer", "Admin", "Owner")
WHERE = ("Bench Leaf", "Bench Mid", "Bench Root")

LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %} · Tenantry</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="container">
  <nav aria-label="Main">
    <ul><li><a href="/t/acme/"><strong>Acme</strong></a></li></ul>
    <ul>
      <li><a href="/t/acme/orgs/">Organizations</a></li>
      <li><a href="/t/acme/audit">Audit log</a></li>
      <li><a href="/t/acme/account">Account</a></li>
    </ul>
  </nav>
</header>
<main id="main" class="container">{% block content %}{% endblock %}</main>
</body>
</html>
"""

PAGE = """{% extends "layout.html" %}
{% block title %}Members · {{ org }}{% endblock %}
{% block content %}
<nav aria-label="Breadcrumb"><ul><li><a href="/t/acme/orgs/">Organizations</a></li>
<li>{{ org }}</li><li aria-current="page">Members</li></ul></nav>
<hgroup><h1>Members</h1><p>Of {{ org }}, directly or through a parent organization.</p></hgroup>
<form method="get" role="search">
  <label for="member-search">Search by name or email</label>
  <input id="member-search" type="search" name="q" value="{{ query }}">
  <button type="submit" class="secondary">Search</button>
</form>
<table class="striped">
  <caption class="visually-hidden">Members of {{ org }}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th>
  <th scope="col">Since</th></tr></thead>
  <tbody>
  {% for member in members %}
  <tr>
    <td><a href="/t/acme/users/{{ member.public_id }}">{{ member.name }}</a></td>
    <td>{{ member.email }}</td>
    <td>{{ member.role }}
      {%- if member.where != org %} <small>in {{ member.where }}</small>{% endif %}</td>
    <td><time datetime="{{ member.since.isoformat() }}">
      {{- member.since.strftime("%d %b %Y") }}</time></td>
  </tr>
  {% endfor %}
  </tbody>
</table>
<nav class="pager" aria-label="Pages">
  {% if after %}<a href="?">« First</a>{% endif %}
  <a href="?after={{ members[-1].public_id }}
    {%- if query %}&amp;q={{ query | urlencode }}{% endif %}" rel="next">Next →</a>
</nav>
{% endblock %}
"""


def members(count: int = ROWS) -> list[dict]:
    rng = random.Random(ROWS)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append(
            {
                "public_id": f"usr_{n:026d}",
                "name": f"{first} {last}",
                "email": f"{first}.{last}.{n}@bench.example".lower(),
                "role": rng.choice(ROLES),
                "where": rng.choice(WHERE),
                "since": start + timedelta(hours=rng.randrange(8000)),
            }
        )
    return sorted(rows, key=lambda row: (row["name"], row["public_id"]))


def create_app() -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"layout.html": LAYOUT, "members.html": PAGE})
    rows = members()

    @app.get("/members")
    def index() -> str:
        return render_template(
            "members.html",
            org="Bench Leaf",
            members=rows,
            query=request.args.get("q", ""),
            after=request.args.get("after", ""),
        )

    return app


app = create_app()
