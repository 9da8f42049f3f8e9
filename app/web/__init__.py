"""The web layer: pages, forms and htmx fragments over the services.

``register(app)`` wires it into the factory: the blueprints, the one error policy, the
security headers of every answer and the template helpers. The shared plumbing lives
here beside the blueprints: ``scope`` (the tenant, visitor and org of a request),
``identity`` (who is signed in), ``rendering`` (a page or its fragment), ``views``
(permission gates and form status), ``forms`` (the base form), ``error_pages``.
"""

from __future__ import annotations

from flask import Flask

from app.extensions import login_manager


def register(app: Flask) -> None:
    from app.web import error_pages, templating
    from app.web.identity import configure_login
    from app.web.security import SecureWhenHttpsSessionInterface, set_security_headers

    configure_login(login_manager)
    app.session_interface = SecureWhenHttpsSessionInterface()
    register_blueprints(app)
    error_pages.register(app)
    app.after_request(set_security_headers)
    templating.register(app)


def register_blueprints(app: Flask) -> None:
    from app.web.invitee import bp as invitee_bp
    from app.web.main import bp as main_bp
    from app.web.staff import bp as staff_bp
    from app.web.tenant import bp as tenant_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(tenant_bp)
    app.register_blueprint(invitee_bp)
    if app.debug:
        # The development mailbox exists only in debug mode (404 otherwise).
        from app.web.dev import bp as dev_bp

        app.register_blueprint(dev_bp)
