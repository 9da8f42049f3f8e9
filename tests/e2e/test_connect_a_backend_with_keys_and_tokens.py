"""A tenant owner connects their product: creates an API key in the browser, their code
uses it, their page gets a user's access token and their backend verifies it with the
README's dozen lines of PyJWT; revoking the key then locks the code out."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid

import jwt
from playwright.sync_api import Dialog, Page, expect

OWNER_EMAIL = "owner@acme.example"  # the demo tenant's owner
PASSWORD = "demo-password-1"


def call_api(base_url: str, key: str, method: str, path: str, body: dict | None = None):
    """What an integration does: a bearer key, JSON in and out."""
    request = urllib.request.Request(  # noqa: S310 (the local test server)
        f"{base_url}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def verify_like_a_backend(token: str, tenantry: str, tenant: str, audience: str) -> dict:
    """The README's guide, verbatim in spirit: PyJWKClient against the tenant's JWKS."""
    jwks = jwt.PyJWKClient(f"{tenantry}/t/{tenant}/.well-known/jwks.json")
    signing_key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        signing_key.key,
        algorithms=["RS256"],
        audience=audience,
        issuer=f"{tenantry}/t/{tenant}",
        options={"require": ["exp", "iat", "sub", "aud", "iss"]},
    )


def test_owner_connects_a_backend_with_an_api_key_and_access_tokens(
    page: Page, base_url: str, assert_accessible
):
    page.goto("/t/acme/login")
    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # --- an API key, made in the browser and shown once ---------------------------------
    page.get_by_role("link", name="Tenant settings").click()
    page.get_by_role("link", name="API keys and tokens").click()
    expect(page.get_by_role("heading", level=2, name="API keys", exact=True)).to_be_in_viewport()
    assert_accessible(page)
    key_name = f"Backend {uuid.uuid4().hex[:6]}"
    page.get_by_label("Key name").fill(key_name)
    # What the code needs, and no more: reading orgs is ticked already.
    expect(page.get_by_role("checkbox", name="See the organization")).to_be_checked()
    page.get_by_role("checkbox", name="Create sub-organizations").check()
    page.get_by_role("checkbox", name="Invite members").check()
    page.get_by_role("button", name="Create API key").click()
    secret_box = page.get_by_role("textbox", name="API key")
    expect(secret_box).to_have_value(re.compile(r"^tk_"))
    secret = secret_box.input_value()
    assert_accessible(page)

    # --- the product's code uses it -----------------------------------------------------
    status, orgs = call_api(base_url, secret, "GET", "/orgs?top_level=true")
    assert status == 200
    acme = next(o for o in orgs["data"] if o["name"] == "Acme Corporation")
    status, made = call_api(
        base_url, secret, "POST", "/orgs", {"name": f"Partners {key_name}", "parent_id": acme["id"]}
    )
    assert status == 201, made
    status, invited = call_api(
        base_url, secret, "POST", f"/orgs/{made['id']}/invitations/bulk",
        {"emails": ["one@partner.example", "two@partner.example"], "role": "viewer"},
    )  # fmt: skip
    assert status == 200, invited
    assert [r["outcome"] for r in invited["data"]] == ["invited", "invited"]
    # Nothing it was not given: deleting is refused, naming what it lacks.
    status, refused = call_api(base_url, secret, "DELETE", f"/orgs/{made['id']}")
    assert (status, refused["error"]["code"]) == (403, "insufficient_scope")
    assert "org:delete" in refused["error"]["message"]

    # --- the product's page gets a user's access token; its backend verifies it ---------
    audience = page.locator("#tokens dd").nth(1).inner_text().strip()
    answer = page.evaluate(
        """async () => {
            const csrf = document.querySelector("[data-csrf-token]").dataset.csrfToken;
            const response = await fetch("/t/acme/token", {
                method: "POST", headers: {"X-CSRFToken": csrf}});
            return {status: response.status, body: await response.json()};
        }"""
    )
    assert answer["status"] == 200, answer
    claims = verify_like_a_backend(answer["body"]["access_token"], base_url, "acme", audience)
    assert claims["email"] == OWNER_EMAIL
    assert claims["tenant_id"] == audience  # no audience of its own: the tenant's id
    # The token carries the organization the header's switcher shows as current.
    switcher = page.get_by_role("banner").locator(".org-switcher .switcher-current")
    current_name = switcher.inner_text().strip()
    status, current = call_api(base_url, secret, "GET", f"/orgs/{claims['org_id']}")
    assert (status, current["name"]) == (200, current_name)
    assert claims["role"] == "owner"  # the tenant's owner is an owner everywhere
    assert acme["id"] in claims["authorization"]

    # --- revoking the key locks the code out --------------------------------------------
    page.reload()
    row = page.get_by_role("row").filter(has_text=key_name)
    page.once("dialog", accept_revoke)
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text(f"“{key_name}” revoked")
    expect(page.get_by_role("row").filter(has_text=key_name)).to_contain_text("revoked")
    status, refused = call_api(base_url, secret, "GET", "/orgs")
    assert status == 401
    assert refused["error"]["code"] == "unauthorized"

    # --- and the reference for people is one click away --------------------------------
    page.get_by_role("navigation", name="Settings pages").get_by_role(
        "link", name="API reference"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Tenantry API")).to_be_visible()
    assert_accessible(page)


def accept_revoke(dialog: Dialog) -> None:
    assert dialog.message.startswith("Revoke ")
    dialog.accept()
