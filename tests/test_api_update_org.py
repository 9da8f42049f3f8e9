"""PATCH /orgs/{id} applies every field its schema accepts: none is taken and dropped."""

from __future__ import annotations

import pytest

from app.api.schemas import UpdateOrg
from tests.conftest import ApiClient

# A value for each field UpdateOrg accepts, and how the org answers it back.
SENT = {
    "name": "Sales EMEA",
    "slug": "sales-emea",
    "logo_url": "https://cdn.example/logo.png",
    "public_metadata": {"plan": "pro"},
    "private_metadata": {"crm": "42"},
    "settings": {"theme": "dark"},
}


def test_the_test_covers_every_field_of_the_schema():
    """A field added to the schema must be added here, and then must be applied."""
    assert set(SENT) == set(UpdateOrg.model_fields)


@pytest.mark.parametrize("field", sorted(SENT))
def test_each_field_sent_is_applied(api: ApiClient, tenant, create_org, field):
    org = create_org(tenant, "Sales")
    response = api.patch(f"/orgs/{org.public_id}", json={field: SENT[field]})
    assert response.status_code == 200, response.json
    assert response.json[field] == SENT[field]
    assert api.get(f"/orgs/{org.public_id}").json[field] == SENT[field]


def test_null_clears_what_may_be_empty_and_leaves_what_may_not(api: ApiClient, tenant, create_org):
    org = create_org(tenant, "Sales")
    path = f"/orgs/{org.public_id}"
    api.patch(path, json={"logo_url": SENT["logo_url"], "settings": SENT["settings"]})
    answer = api.patch(path, json={"logo_url": None, "name": None, "settings": None}).json
    assert answer["logo_url"] is None
    assert answer["name"] == "Sales"
    assert answer["settings"] == SENT["settings"]
