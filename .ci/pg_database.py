"""Create or drop a throwaway PostgreSQL database for one CI run.

usage: python .ci/pg_database.py create|drop NAME [SERVER_URL]
"""

import sys

import psycopg
from psycopg import sql

action, name = sys.argv[1], sys.argv[2]
server = sys.argv[3] if len(sys.argv) > 3 else "postgresql://postgres@127.0.0.1:5432/postgres"
with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
    if action == "create":
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    elif action == "drop":
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    else:
        raise SystemExit(f"unknown action {action!r}")
