"""No stored text holds NUL, control or direction-override characters, whichever door it
came through; and HSTS can be switched on (the trust issue's item 14)."""

from __future__ import annotations

import pytest

from tests.conftest import ApiClient

RLO = "\u202e"  # right-to-left override: "gnp.exe" shows as "exe.png"


@pytest.mark.parametrize("bad", [f"Sales{RLO}gnp.exe", "Sales\u2066x", "Sales\x00"])
def test_the_api_refuses_them_in_names(api: ApiClient, world, bad):
    response = api.post("/orgs", json={"name": bad})
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"][0]["field"] in ("name", "body.name")


@pytest.mark.parametrize(
    "data",
    [
        {"note": "a\x00b"},
        {"k\x00": 1},
        {"nested": {"deeper": [f"x{RLO}y"]}},
    ],
)
def test_the_api_refuses_them_anywhere_in_metadata(api: ApiClient, world, data):
    path = f"/orgs/{world.sales.public_id}"
    response = api.patch(path, json={"public_metadata": data})
    assert response.status_code == 422, response.json
    assert api.get(path).json["public_metadata"] == {}


def test_the_pages_refuse_a_direction_override_in_a_name(client, auth, world):
    auth.login(world.tenant_owner)
    response = client.post("/t/acme/orgs/new", data={"name": f"Evil{RLO}gnp.exe"})
    assert response.status_code == 422
    assert "Remove the invisible control characters." in response.get_data(as_text=True)


def test_a_role_description_and_an_invitation_message_refuse_them_too(api: ApiClient, world):
    role = api.post(
        "/roles",
        json={
            "key": "auditor",
            "name": "Auditor",
            "description": f"x{RLO}",
            "permissions": ["org:read"],
        },
    )
    assert role.status_code == 422, role.json
    invite = api.post(
        f"/orgs/{world.engineering.public_id}/invitations",
        json={"email": "new@acme.example", "role": "member", "message": "hi\x00"},
    )
    assert invite.status_code == 422, invite.json


def test_hsts_is_sent_over_https_when_configured(app, client):
    assert "Strict-Transport-Security" not in client.get("/", base_url="https://localhost").headers
    app.config["HSTS_SECONDS"] = 31536000
    try:
        secure = client.get("/", base_url="https://localhost")
        plain = client.get("/")
    finally:
        app.config["HSTS_SECONDS"] = 0
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in plain.headers
