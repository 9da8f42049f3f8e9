"""The OpenAPI document and the reference page: public, complete, and made from the code."""

from __future__ import annotations

from app.api.core import OPERATIONS


def test_the_document_is_openapi_3_1_and_lists_every_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"] == "3.1.0"
    listed = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    declared = {(op.method, op.rule.replace("<", "{").replace(">", "}")) for op in OPERATIONS}
    assert listed == declared
    assert set(document["components"]["securitySchemes"]) == {"apiKey", "accessToken"}


def test_request_bodies_refuse_unknown_fields_in_the_document_too(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    assert schemas["CreateOrg"]["additionalProperties"] is False
    assert "tenant_id" not in schemas["CreateOrg"]["properties"]


def test_the_reference_page_shows_every_operation(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for op in OPERATIONS:
        assert f'id="op-{op.endpoint}"' in page, op.endpoint
    assert 'id="schema-Org"' in page
    assert "cdn" not in page.lower()
