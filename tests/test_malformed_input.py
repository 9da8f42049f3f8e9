"""No page answers 500 to malformed input: oversized, NUL bytes, bad UTF-8, missing fields."""

from __future__ import annotations

import pytest

LOGIN = "/t/acme/login"
SIGNUP = "/t/open/signup"
NEW_TENANT = "/staff/tenants/new"


@pytest.fixture
def open_tenant(create_tenant):
    return create_tenant("Open", slug="open", allow_signup=True)


BAD_VALUES = {
    "nul": "abc\x00def",
    "huge": "x" * 100_000,
    "control": "line\x1bbreak",
    "unicode": "👩‍💻 ̷̨̛ RTL\u202etext",
    "empty": "",
    "sql": "' OR 1=1 --",
}


@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_sign_in_with_bad_values(client, owner, value):
    response = client.post(LOGIN, data={"email": value, "password": value, "next": value})
    assert response.status_code in (400, 413, 422)


@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_sign_up_with_bad_values(client, open_tenant, value):
    response = client.post(SIGNUP, data={"name": value, "email": value, "password": value})
    assert response.status_code in (400, 413, 422)


@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_new_tenant_with_bad_values(client, auth, create_staff, value):
    auth.login_staff(create_staff())
    data = dict.fromkeys(("name", "slug", "owner_name", "owner_email", "owner_password"), value)
    response = client.post(NEW_TENANT, data=data)
    assert response.status_code in (400, 413, 422)


def test_nul_in_a_name_is_refused_next_to_the_field(client, auth, create_staff):
    auth.login_staff(create_staff())
    response = client.post(
        NEW_TENANT,
        data={
            "name": "Evil\x00Corp",
            "owner_email": "a@example.com",
            "owner_password": "long-password-1",
        },
    )
    assert response.status_code == 422
    assert "control characters" in response.get_data(as_text=True)


def test_missing_fields(client, owner, open_tenant):
    assert client.post(LOGIN, data={}).status_code == 422
    assert client.post(SIGNUP, data={}).status_code == 422


def test_bad_utf8_body(client, owner):
    token = client.csrf_token()
    body = b"csrf_token=" + token.encode() + b"&email=%ff%fe%fd&password=%c3%28"
    response = client.post(
        LOGIN, data=body, content_type="application/x-www-form-urlencoded", csrf=False
    )
    assert response.status_code == 422


def test_oversized_body_is_413(client, owner):
    response = client.post(LOGIN, data={"email": "a" * (3 * 1024 * 1024)})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/t/acme/login?next=%00",
        "/t/%ff%fe/login",
        "/t/" + "a" * 5000 + "/login",
        "/staff/?q=%00%ff",
        "/staff/?page=-5",
        "/staff/?page=99999999999999999999",
        "/?workspace=%00",
        "/?workspace=" + "x" * 5000,
    ],
)
def test_malformed_urls(client, auth, create_staff, owner, path):
    auth.login_staff(create_staff())
    response = client.get(path)
    assert response.status_code < 500
