"""Contract: every API operation answers what the OpenAPI document says, for valid and
invalid input alike, and never with a 500 (schemathesis drives the app in-process).

Path ids are usually swapped for real ones of a seeded tenant, so the happy paths and
their response schemas are exercised, not only the 404s random ids would get.
"""

from __future__ import annotations

import random

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app

MAX_EXAMPLES = 30
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _document() -> dict:
    """The document as the app serves it (built from the same declarations)."""
    spec_app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    return spec_app.test_client().get("/api/v1/openapi.json").json


schema = schemathesis.openapi.from_dict(_document())


@pytest.fixture
def seeded(tenant, one_of_everything, create_api_key):
    """A tenant with one of everything, and the ids an operation's path may name."""
    ids = one_of_everything(tenant)
    return {"key": create_api_key(tenant), "ids": ids, "rng": random.Random(7)}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(app, case, seeded):
    if case.path_parameters and seeded["rng"].random() < 0.8:
        for name in case.path_parameters:
            case.path_parameters[name] = seeded["ids"][name]
    headers = {"Authorization": f"Bearer {seeded['key']}"}
    if case.operation.path == "/self":
        headers = {}  # a user's access token is tested in test_access_tokens.py
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
