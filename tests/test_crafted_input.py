"""Crafted input gets a clear 4xx, never a 500 (the trust issue's item 12)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import ApiClient


def _key(parts) -> str:
    """A hand-made ``?after=`` token, as a page's own would look (base64 of JSON)."""
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def _cursor(after) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "query",
    [
        "offset=99999999999999999999999",  # an old link: the first page
        "level=99999999999999999999999",
        "after=not-a-key",
        f"after={_key(['A', 10**40])}",
        f"after={_key(['A', 'not an id'])}",
        "before=" + _key(["A\u0000", 1]),
        f"after={_key([{'t': '2024-01-01T00:00:00'}, 1])}",
    ],
)
def test_tree_children_take_any_number(client, auth, world, query):
    auth.login(world.tenant_owner)
    response = client.get(f"/t/acme/orgs/acme-hq/children?{query}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/orgs",
        "/users",
        "/orgs/{org}/members",
        "/orgs/{org}/invitations",
        "/orgs/{org}/teams",
    ],
)
@pytest.mark.parametrize("after", [9223372036854775808, -1, 10**40])
def test_api_cursors_out_of_range_are_refused(api: ApiClient, world, path, after):
    response = api.get(f"{path.format(org=world.engineering.public_id)}?cursor={_cursor(after)}")
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == "bad_request"


def test_renaming_a_team_to_a_taken_name_is_a_form_error(client, auth, world):
    auth.login(world.owner)
    teams = "/t/acme/orgs/engineering/teams"
    client.post(f"{teams}/", data={"name": "Backend"})
    created = client.post(f"{teams}/", data={"name": "Frontend"})
    frontend = created.headers["Location"]
    response = client.post(f"{frontend}/rename", data={"name": "Backend"})
    assert response.status_code == 422
    assert "There is already a team called “Backend” here." in response.get_data(as_text=True)
    assert "Frontend" in client.get(frontend).get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("endpoint=x", "/t/acme/orgs/eng/members?endpoint=x"),
        ("tenant=globex", "/t/acme/orgs/eng/members?tenant=globex"),
        ("org=sales", "/t/acme/orgs/eng/members?org=sales"),
        ("_scheme=https&_external=1", "/t/acme/orgs/eng/members?_scheme=https&_external=1"),
    ],
)
def test_an_old_slug_redirect_rebuilds_only_its_own_address(client, auth, world, query, location):
    auth.login(world.owner)
    client.post("/t/acme/orgs/engineering/settings", data={"name": "Eng", "slug": "eng"})
    response = client.get(f"/t/acme/orgs/engineering/members?{query}")
    assert response.status_code == 301
    assert response.headers["Location"] == location
