"""Reading a search box's text from the query string, safely."""

from flask import request


def query_text(name: str = "q", limit: int = 100) -> str:
    """Trimmed, bounded, and without control characters (PostgreSQL refuses NUL)."""
    raw = request.args.get(name, "")
    return "".join(ch for ch in raw if ch.isprintable())[:limit].strip()
