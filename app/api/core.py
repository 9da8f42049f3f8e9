"""How an API operation is declared, authenticated, validated and answered.

``@operation(...)`` registers a view together with the pydantic models of its query,
body and response; the same declarations validate requests, serialise responses and
build the OpenAPI document (app.api.openapi), so the document can't drift from the code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from flask import Response, current_app, g, request
from pydantic import BaseModel, ValidationError
from werkzeug.local import LocalProxy

from app.actors import Actor
from app.api import bp
from app.api.schemas import ErrorBody
from app.credentials import hash_token
from app.errors import NotFound, ServiceError
from app.extensions import db, limiter
from app.models import ApiKey, Organization, Tenant
from app.policy import InsufficientScope, KeyScope
from app.services import api_keys, orgs

PUBLIC_ID = re.compile(r"^[a-z]{2,5}_[0-9A-HJKMNP-TV-Z]{26}$")
JSON = "application/json"


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"


class UnsupportedMediaType(ServiceError):
    status_code = 415
    code = "unsupported_media_type"


class BadRequest(ServiceError):
    status_code = 400
    code = "bad_request"


class InvalidRequest(ServiceError):
    """A request that parsed but does not fit its schema; ``details`` says where."""

    status_code = 422
    code = "invalid"

    def __init__(self, message: str, details: list[dict[str, str]]) -> None:
        super().__init__(message)
        self._details = details

    @property
    def details(self) -> list[dict[str, str]]:
        return self._details


@dataclass
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    description: str
    tag: str
    auth: str | None  # "api_key", "access_token" or None (public)
    # What an API key needs to call it (a Perm or TenantPerm name); checked before the
    # view runs, so a key without it changes nothing. Services check what depends on
    # the request (the role granted, a top-level parent) with the same key scope.
    permission: str | None
    # Reads the whole tenant (its users): a key limited to a subtree may not.
    tenant_wide: bool
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...] = field(default_factory=tuple)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.rule)


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    auth: str | None = "api_key",
    permission: str | None = None,
    tenant_wide: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare an operation: the view gets the path values, ``query=`` and ``body=``
    models, and returns a ``response`` model instance (or None for a 204)."""

    if auth == "api_key" and permission is None:
        raise TypeError(f"{rule}: an API-key operation declares the permission it needs.")

    def decorator(view: Callable[..., Any]) -> Callable[..., Response]:
        op = Operation(
            method=method,
            rule=rule,
            endpoint=view.__name__,
            summary=summary,
            description=(view.__doc__ or "").strip(),
            tag=tag,
            auth=auth,
            permission=permission,
            tenant_wide=tenant_wide,
            query=query,
            body=body,
            response=response,
            status=status,
            errors=errors,
        )

        @functools.wraps(view)
        def handle(**path_values: str) -> Response:
            if op.auth == "api_key":
                scope = authenticate_api_key().scope
                scope.require(cast(str, op.permission))
                if op.tenant_wide and not scope.tenant_wide:
                    raise InsufficientScope(
                        cast(str, op.permission),
                        f"This API key is limited to {scope.org_name}: {op.rule} needs a "
                        "tenant-wide key.",
                    )
            # An id that can't exist is as absent as one that doesn't (and never reaches SQL).
            if not all(PUBLIC_ID.match(value) for value in path_values.values()):
                raise NotFound("No such resource.")
            kwargs: dict[str, Any] = dict(path_values)
            if op.query is not None:
                kwargs["query"] = _validate(op.query, request.args.to_dict(), "query")
            if op.body is not None:
                kwargs["body"] = _parse_body(op.body)
            result = view(**kwargs)
            db.session.commit()
            return respond(result, op.status)

        OPERATIONS.append(op)
        bp.add_url_rule(rule, endpoint=op.endpoint, view_func=handle, methods=[method])
        return handle

    return decorator


def respond(result: BaseModel | None, status: int = 200) -> Response:
    if result is None:
        return Response(status=204)
    return Response(result.model_dump_json(), status=status, mimetype=JSON)


# --- authentication ------------------------------------------------------------------


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


@dataclass(frozen=True)
class Caller:
    """Who is calling the API: the key, its tenant, its scope and the actor services are
    given."""

    key: ApiKey
    tenant: Tenant
    actor: Actor
    scope: KeyScope

    def org(self, public_id: str, *, deleted: bool = False) -> Organization:
        """One of the tenant's orgs the key reaches; outside its subtree an org is as
        absent (404) as another tenant's."""
        org = orgs.get_org_by_public_id(self.tenant, public_id, deleted=deleted)
        if not self.scope.reaches(org):
            raise NotFound("No such organization.")
        return org


# The request's caller, set once by authenticate_api_key before any operation runs.
caller = cast(Caller, LocalProxy(lambda: g.api_caller))


def authenticate_api_key() -> Caller:
    """The key in ``Authorization: Bearer tk_…``, live, of an active tenant; else 401."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("Send a tenant API key as “Authorization: Bearer tk_…”.")
    found = api_keys.authenticate(token)
    if found is None:
        raise Unauthorized("This API key is not valid: it may be revoked, expired or mistyped.")
    actor = Actor.for_api_key(found.key, found.scope, found.creator_email)
    g.api_caller = Caller(found.key, found.tenant, actor, found.scope)
    return g.api_caller


def rate_limit_key() -> str:
    """Per key (hashed, before any database work), or per client without one."""
    token = bearer_token()
    if token:
        return f"api:{hash_token(token)[:32]}"
    return f"api-ip:{request.remote_addr}"


def rate_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


limiter.limit(rate_limit, key_func=rate_limit_key)(bp)


# --- validation ----------------------------------------------------------------------


def _parse_body(model: type[BaseModel]) -> BaseModel:
    if request.mimetype != JSON:
        raise UnsupportedMediaType("Send the body as JSON (Content-Type: application/json).")
    raw = request.get_data(cache=False)
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            raise BadRequest("The body is not valid JSON.") from None
        raise _invalid(error, "body") from None


def _validate(model: type[BaseModel], data: dict[str, Any], location: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise _invalid(error, location) from None


def _invalid(error: ValidationError, location: str) -> InvalidRequest:
    details = []
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"])
        message = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
        details.append({"field": f"{location}.{path}" if path else location, "message": message})
    first = details[0] if details else {"field": location, "message": "invalid"}
    return InvalidRequest(f"{first['field']}: {first['message']}", details)


def json_error(status: int, code: str, message: str, details: list | None = None) -> Response:
    body = ErrorBody.model_validate(
        {"error": {"code": code, "message": message, "details": details or None}}
    )
    response = Response(body.model_dump_json(exclude_none=True), status=status, mimetype=JSON)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tenantry"'
    return response
