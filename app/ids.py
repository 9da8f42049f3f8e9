"""Public identifiers: a type prefix and a ULID, e.g. ``usr_01J9Z3QX…``.

Integer primary keys stay internal (joins, foreign keys); only these ids leave the app.
"""

from ulid import ULID

PREFIXES = {
    "tenant": "tnt",
    "user": "usr",
    "staff": "stf",
    "org": "org",
    "invitation": "inv",
    "team": "team",
    "role": "role",
    "api_key": "key",
    "event": "evt",
    "join_link": "jl",
    "view_as": "va",
}


def new_public_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


def id_factory(kind: str):
    """A column default that makes a fresh id per row (never one computed at import)."""
    prefix = PREFIXES[kind]
    return lambda: new_public_id(prefix)
