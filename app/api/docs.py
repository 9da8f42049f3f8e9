"""The OpenAPI document, and the same document rendered as a reference for people."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, render_template

from app.api import bp, openapi


def spec() -> dict[str, Any]:
    """Built once per app from the declared operations."""
    if "tenantry_openapi" not in current_app.extensions:
        current_app.extensions["tenantry_openapi"] = openapi.build()
    return current_app.extensions["tenantry_openapi"]


@bp.get("/openapi.json")
def openapi_document() -> Response:
    response = Response(json.dumps(spec(), indent=1), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def reference() -> str:
    document = spec()
    operations_by_tag: dict[str, list[dict[str, Any]]] = {
        tag["name"]: [] for tag in document["tags"]
    }
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            operations_by_tag[operation["tags"][0]].append(
                {"method": method.upper(), "path": path, **operation}
            )
    return render_template(
        "api/docs.html",
        document=document,
        operations_by_tag=operations_by_tag,
        schemas=document["components"]["schemas"],
        schema_name=schema_name,
        type_of=type_of,
    )


def schema_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any]) -> str:
    """A short human reading of a JSON schema: ``string``, ``Org``, ``list of TeamId``…"""
    if "$ref" in schema:
        return schema_name(schema["$ref"])
    if "anyOf" in schema:
        return " or ".join(type_of(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        values = schema["additionalProperties"]
        return f"object of {type_of(values)}" if isinstance(values, dict) and values else "object"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return str(kind)
