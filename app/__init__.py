"""Tenantry: the application factory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import PROJECT_ROOT, ConfigError, load_config
from app.extensions import csrf, db, htmx, limiter, login_manager, migrate
from app.startup import EXIT_CANNOT_START, exit_unless_can_serve


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    if test_config is None and _serving_with_flask_run():
        exit_unless_can_serve()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    try:
        app.config.from_mapping(load_config(test_config))
    except ConfigError as exc:
        # One line, no traceback: the operator needs the reason, not our stack.
        sys.stderr.write(f"Tenantry cannot start: {exc}\n")
        raise SystemExit(EXIT_CANNOT_START) from None
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    register_extensions(app)
    register_web(app)
    register_api(app)
    register_commands(app)
    start_dev_mail_delivery(app)
    return app


def _serving_with_flask_run() -> bool:
    """``flask run`` is loading the app to serve it (not ``flask db upgrade`` and the like,
    which must work on an empty database)."""
    context = click.get_current_context(silent=True)
    return context is not None and context.info_name == "run"


def register_extensions(app: Flask) -> None:
    from app import database, models  # noqa: F401  (models register their tables)

    db.init_app(app)
    with app.app_context():
        database.configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    # Templates never read current_user (tenant pages get `user`, staff pages their own
    # helpers), and loading it for every render would fail every error page with the
    # database down.
    login_manager.init_app(app, add_context_processor=False)


def register_web(app: Flask) -> None:
    """Pages, their error policy, security headers and template helpers."""
    from app import web

    web.register(app)


def register_api(app: Flask) -> None:
    from app.api import bp as api_bp

    # The API authenticates every request by its Authorization header, never by a
    # cookie, so a forged cross-site request carries nothing to forge with.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)


def start_dev_mail_delivery(app: Flask) -> None:
    from app.web.dev import delivery

    if delivery.should_start(app):
        delivery.start(app)
