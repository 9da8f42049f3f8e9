"""The OpenAPI 3.1 document, generated from the declared operations and their pydantic
models (the same ones that validate requests and shape responses)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.api.core import OPERATIONS, PUBLIC_ID, Operation
from app.api.schemas import ErrorBody

REF = "#/components/schemas/{model}"
ID_PREFIXES = {"org_id": "org", "user_id": "usr", "team_id": "team",
               "invitation_id": "inv", "role_id": "role"}  # fmt: skip
TAG_DESCRIPTIONS = {
    "Organizations": "The nested organization tree. Deleting hides a subtree; restoring "
    "brings back exactly what that deletion hid.",
    "Members": "Direct and inherited members. A role held in an organization holds in "
    "everything below it; the effective role is the strongest.",
    "Invitations": "Email invitations: single use, bound to the address, expiring.",
    "Teams": "Named groups of an organization's members.",
    "Roles": "Roles are permission sets: the built-in owner, admin, member and viewer, "
    "and the tenant's custom roles.",
    "Users": "The tenant's people.",
    "Access tokens": "For a product's backend: user access tokens (JWTs) minted at "
    "`POST /t/<tenant>/token`, verified against `/t/<tenant>/.well-known/jwks.json`.",
}
ERROR_DESCRIPTIONS = {
    400: "The request is malformed (a body that is not JSON, a cursor not from the API).",
    401: "No valid credentials.",
    403: "The rules refuse this change, or the API key lacks the permission this "
    "operation needs (`insufficient_scope`, naming the permission).",
    404: "No such resource in this tenant.",
    409: "The change conflicts with the current state.",
    415: "The body is not JSON.",
    422: "The input does not fit the schema or the rules; `details` says where.",
    429: "Too many requests: slow down and retry after `Retry-After` seconds.",
    503: "The database can't be reached for a moment; retry after `Retry-After` seconds.",
}


def build() -> dict[str, Any]:
    inputs = {op.body for op in OPERATIONS if op.body}
    outputs = {op.response for op in OPERATIONS if op.response} | {ErrorBody}
    refs, top = models_json_schema(
        [(model, "validation") for model in sorted(inputs, key=_name)]
        + [(model, "serialization") for model in sorted(outputs, key=_name)],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(_path(op.rule), {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tenantry API",
            "version": "1.0.0",
            "description": "Organizations, members, invitations, teams, roles and users "
            "of one tenant, reached with a tenant API key "
            "(`Authorization: Bearer tk_…`). A key holds the permissions chosen when it "
            "was made, over the whole tenant or one organization's subtree: each "
            "operation names the one it needs (`x-permission`); without it the answer is "
            "403 `insufficient_scope`, and outside the subtree an organization is 404. "
            "Lists are paginated with `limit` and "
            '`cursor` and answer `{"data": [...], "next_cursor": ...}`; errors answer '
            '`{"error": {"code", "message"}}` with a 4xx status.',
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": name, "description": text} for name, text in TAG_DESCRIPTIONS.items()],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A tenant API key (`tk_…`), from the tenant settings "
                    "page or `flask api-keys create`.",
                },
                "accessToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A user's access token from `POST /t/<tenant>/token`.",
                },
            },
        },
    }


def _name(model: type[BaseModel]) -> str:
    return model.__name__


def _path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _operation(op: Operation, refs: dict) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": [_path_parameter(name) for name in op.path_params]
        + (_query_parameters(op.query) if op.query else []),
        "responses": _responses(op, refs),
    }
    if op.description:
        spec["description"] = op.description
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    spec["security"] = (
        [{"apiKey": []}] if op.auth == "api_key" else [{"accessToken": []}] if op.auth else []
    )
    if op.permission is not None:
        # The permission a key needs, machine-readable and in words for the reader.
        spec["x-permission"] = op.permission
        spec["x-tenant-wide"] = op.tenant_wide
        needs = f"Needs an API key with `{op.permission}`"
        needs += ", not limited to a subtree." if op.tenant_wide else "."
        spec["description"] = f"{spec.get('description', '')}\n\n{needs}".strip()
    return spec


def _path_parameter(name: str) -> dict[str, Any]:
    prefix = ID_PREFIXES[name]
    pattern = PUBLIC_ID.pattern.replace("[a-z]{2,5}", prefix)
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "pattern": pattern}}  # fmt: skip


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = _without_null(dict(prop))
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` means "may be left out" in a query string, where null can't be sent."""
    options = prop.pop("anyOf", None)
    if options is None:
        return prop
    kept = [option for option in options if option.get("type") != "null"]
    if prop.get("default", "") is None:
        prop.pop("default")
    return {**kept[0], **prop} if len(kept) == 1 else {**prop, "anyOf": kept}


def _responses(op: Operation, refs: dict) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.response is None:
        responses[str(op.status)] = {"description": "Done."}
    else:
        responses[str(op.status)] = {
            "description": op.summary + ".",
            "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
        }
    errors = set(op.errors) | {429, 503}
    if op.auth:
        errors.add(401)
    if op.permission is not None:
        errors.add(403)
    if op.path_params:
        errors.add(404)
    if op.query is not None:
        errors |= {400, 422}
    if op.body is not None:
        errors |= {400, 415, 422}
    error_schema = refs[(ErrorBody, "serialization")]
    for status in sorted(errors):
        responses[str(status)] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": error_schema}},
        }
    return responses
