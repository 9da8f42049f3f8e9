"""The JSON API: what an integration does with a tenant API key, and the answers it gets."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Invitation, Organization, OutboxEmail, TenantRole
from tests.conftest import ApiClient


@pytest.fixture
def tree(tenant, create_org):
    """Acme > Engineering > Platform, and Sales at the top level."""
    acme = create_org(tenant, "Acme Corporation")
    engineering = create_org(tenant, "Engineering", parent=acme)
    platform = create_org(tenant, "Platform", parent=engineering)
    sales = create_org(tenant, "Sales")
    return {"acme": acme, "engineering": engineering, "platform": platform, "sales": sales}


# --- organizations -------------------------------------------------------------------


def test_list_orgs_pages_with_a_cursor(api: ApiClient, tree):
    first = api.get("/orgs?limit=3")
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "application/json"
    assert [o["name"] for o in first.json["data"]] == [
        "Acme Corporation",
        "Engineering",
        "Platform",
    ]
    assert first.json["next_cursor"]
    second = api.get(f"/orgs?limit=3&cursor={first.json['next_cursor']}")
    assert [o["name"] for o in second.json["data"]] == ["Sales"]
    assert second.json["next_cursor"] is None


def test_list_orgs_filters(api: ApiClient, tree):
    top = api.get("/orgs?top_level=true").json["data"]
    assert {o["name"] for o in top} == {"Acme Corporation", "Sales"}
    children = api.get(f"/orgs?parent_id={tree['acme'].public_id}").json["data"]
    assert [o["name"] for o in children] == ["Engineering"]
    assert children[0]["parent_id"] == tree["acme"].public_id
    found = api.get("/orgs?q=PLAT").json["data"]
    assert [o["id"] for o in found] == [tree["platform"].public_id]


def test_a_bad_cursor_is_a_400_not_a_500(api: ApiClient, tree):
    for cursor in ("nonsense", "eyJhZnRlciI6ICJ4In0", "W10"):
        response = api.get(f"/orgs?cursor={cursor}")
        assert response.status_code == 400, cursor
        assert response.json["error"]["code"] == "bad_request"


def test_create_an_org_below_another_with_an_owner(app, api: ApiClient, tree, owner):
    response = api.post(
        "/orgs",
        json={"name": "Data", "parent_id": tree["platform"].public_id, "owner_id": owner.public_id},
    )
    assert response.status_code == 201, response.json
    org = response.json
    assert org["id"].startswith("org_")
    assert org["slug"] == "data"
    assert org["parent_id"] == tree["platform"].public_id
    members = api.get(f"/orgs/{org['id']}/members").json["data"]
    owners = [m for m in members if m["direct_role"] == "owner"]
    assert [m["user"]["email"] for m in owners] == [owner.email]
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.action == "org.created", AuditEvent.target_id == org["id"]
            )
        )
        assert event.actor_type == "api_key"
        assert event.actor_label == "API key “Test key”"


def test_create_refuses_unknown_fields_and_never_honours_tenant_id(
    app, api: ApiClient, tenant, create_tenant
):
    other = create_tenant("Globex", slug="globex")
    response = api.post("/orgs", json={"name": "Sneaky", "tenant_id": other.public_id})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid"
    assert response.json["error"]["details"] == [
        {"field": "body.tenant_id", "message": "unknown field"}
    ]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.name"),
        ({"name": ""}, "body.name"),
        ({"name": "x" * 121}, "body.name"),
        ({"name": "Nul\x00byte"}, "body.name"),
        ({"name": 5}, "body.name"),
        ({"name": "Ok", "slug": "Not A Slug"}, "body.slug"),
        ({"name": "Ok", "parent_id": "org_nope"}, "body.parent_id"),
    ],
)
def test_create_validates_the_body(api: ApiClient, body, field):
    response = api.post("/orgs", json=body)
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["field"] == field


def test_the_body_must_be_json(api: ApiClient):
    assert api.request("POST", "/orgs", data="name=x").status_code == 415
    bad = api.request("POST", "/orgs", data="{not json", content_type="application/json")
    assert bad.status_code == 400
    assert bad.json["error"]["message"] == "The body is not valid JSON."
    listed = api.request("POST", "/orgs", json=["Acme"])
    assert listed.status_code == 422


def test_a_slug_clash_and_a_reserved_slug_are_field_errors(api: ApiClient, tree):
    taken = api.post("/orgs", json={"name": "Again", "slug": "engineering"})
    assert taken.status_code == 422
    assert taken.json["error"]["details"] == [
        {"field": "slug", "message": "The address “engineering” is already taken."}
    ]
    assert api.post("/orgs", json={"name": "X", "slug": "settings"}).status_code == 422
    derived = api.post("/orgs", json={"name": "Engineering"})
    assert derived.json["slug"] == "engineering-2"


def test_update_changes_only_what_is_sent(api: ApiClient, tree):
    path = f"/orgs/{tree['sales'].public_id}"
    response = api.patch(path, json={"public_metadata": {"plan": "pro", "seats": 5}})
    assert response.status_code == 200, response.json
    assert response.json["name"] == "Sales"
    assert response.json["public_metadata"] == {"plan": "pro", "seats": 5}
    renamed = api.patch(
        path, json={"name": "Sales EMEA", "logo_url": "https://cdn.example/logo.png"}
    )
    assert renamed.json["name"] == "Sales EMEA"
    assert renamed.json["slug"] == "sales"
    assert renamed.json["public_metadata"] == {"plan": "pro", "seats": 5}
    cleared = api.patch(path, json={"logo_url": None})
    assert cleared.json["logo_url"] is None


def test_update_refuses_oversized_or_non_finite_metadata(api: ApiClient, tree):
    path = f"/orgs/{tree['sales'].public_id}"
    big = api.patch(path, json={"settings": {"blob": "x" * 9000}})
    assert big.status_code == 422
    nan = api.request(
        "PATCH", path, data='{"settings": {"x": NaN}}', content_type="application/json"
    )
    assert nan.status_code in (400, 422)
    long_key = api.patch(path, json={"settings": {"k" * 65: 1}})
    assert long_key.status_code == 422


def test_move_delete_and_restore(api: ApiClient, tree):
    platform = tree["platform"].public_id
    moved = api.post(f"/orgs/{platform}/move", json={"parent_id": tree["sales"].public_id})
    assert moved.status_code == 200
    assert moved.json["parent_id"] == tree["sales"].public_id
    cycle = api.post(
        f"/orgs/{tree['acme'].public_id}/move", json={"parent_id": tree["engineering"].public_id}
    )
    assert cycle.status_code == 422
    top = api.post(f"/orgs/{platform}/move", json={"parent_id": None})
    assert top.json["parent_id"] is None

    assert api.delete(f"/orgs/{tree['acme'].public_id}").status_code == 204
    assert api.get(f"/orgs/{tree['engineering'].public_id}").status_code == 404
    restored = api.post(f"/orgs/{tree['acme'].public_id}/restore")
    assert restored.status_code == 200
    assert api.get(f"/orgs/{tree['engineering'].public_id}").status_code == 200
    assert api.post(f"/orgs/{tree['acme'].public_id}/restore").status_code == 404


def test_children_and_subtree(api: ApiClient, tree):
    children = api.get(f"/orgs/{tree['acme'].public_id}/children").json["data"]
    assert [o["name"] for o in children] == ["Engineering"]
    subtree = api.get(f"/orgs/{tree['acme'].public_id}/subtree").json["data"]
    assert [(o["name"], o["depth"]) for o in subtree] == [("Engineering", 1), ("Platform", 2)]


def test_unknown_ids_are_404s(api: ApiClient):
    missing = api.get("/orgs/org_01JD5Q8Z9Y3XK7V2N4M6P8R0ST")
    assert missing.status_code == 404
    assert missing.json == {"error": {"code": "not_found", "message": "No such organization."}}
    assert api.get("/orgs/not-an-id").status_code == 404
    assert api.get("/orgs/org_%00").status_code == 404
    assert api.get("/no-such-thing").status_code == 404
    assert api.get("/no-such-thing").json["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_405(api: ApiClient):
    response = api.request("PUT", "/orgs")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


# --- members -------------------------------------------------------------------------


def test_members_add_change_role_and_remove(
    app, api: ApiClient, tenant, tree, create_user, add_member
):
    boss = create_user(tenant, "boss@acme.example", name="Boss")
    dev = create_user(tenant, "dev@acme.example", name="Dev")
    add_member(tree["acme"], boss, "owner")
    platform = tree["platform"].public_id

    added = api.post(f"/orgs/{platform}/members", json={"user_id": dev.public_id, "role": "member"})
    assert added.status_code == 201, added.json
    assert added.json["direct_role"] == "member"
    assert added.json["role"] == "member"

    listed = api.get(f"/orgs/{platform}/members").json["data"]
    by_email = {m["user"]["email"]: m for m in listed}
    assert by_email["boss@acme.example"]["role"] == "owner"
    assert by_email["boss@acme.example"]["inherited_from"] == tree["acme"].public_id
    assert by_email["dev@acme.example"]["inherited_from"] is None

    only_owners = api.get(f"/orgs/{platform}/members?role=owner").json["data"]
    assert [m["user"]["email"] for m in only_owners] == ["boss@acme.example"]
    searched = api.get(f"/orgs/{platform}/members?q=dev@").json["data"]
    assert [m["user"]["email"] for m in searched] == ["dev@acme.example"]

    changed = api.patch(f"/orgs/{platform}/members/{dev.public_id}", json={"role": "admin"})
    assert changed.json["role"] == "admin"
    assert (
        api.patch(f"/orgs/{platform}/members/{dev.public_id}", json={"role": "nope"}).status_code
        == 422
    )
    inherited = api.delete(f"/orgs/{platform}/members/{boss.public_id}")
    assert inherited.status_code == 409
    assert api.delete(f"/orgs/{platform}/members/{dev.public_id}").status_code == 204
    assert api.delete(f"/orgs/{platform}/members/{dev.public_id}").status_code == 404
    assert api.get(f"/orgs/{platform}/members/{dev.public_id}").status_code == 404


def test_the_last_owner_stays(api: ApiClient, tenant, tree, create_user, add_member):
    boss = create_user(tenant, "boss@acme.example")
    add_member(tree["acme"], boss, "owner")
    acme = tree["acme"].public_id
    demote = api.patch(f"/orgs/{acme}/members/{boss.public_id}", json={"role": "admin"})
    assert demote.status_code == 409
    assert "without an owner" in demote.json["error"]["message"]
    assert api.delete(f"/orgs/{acme}/members/{boss.public_id}").status_code == 409


def test_members_pages_by_cursor(api: ApiClient, tenant, tree, create_user, add_member):
    for n in range(7):
        add_member(tree["sales"], create_user(tenant, f"p{n}@acme.example"))
    seen, cursor = [], None
    while True:
        url = f"/orgs/{tree['sales'].public_id}/members?limit=3" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = api.get(url).json
        seen += [m["user"]["email"] for m in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(f"p{n}@acme.example" for n in range(7))
    assert len(seen) == len(set(seen))


# --- invitations: the whole flow from code -------------------------------------------


def test_invite_in_bulk_list_and_revoke_from_code(
    app, api: ApiClient, tenant, tree, create_user, add_member
):
    member = create_user(tenant, "already@acme.example")
    add_member(tree["acme"], member)
    platform = tree["platform"].public_id

    bulk = api.post(
        f"/orgs/{platform}/invitations/bulk",
        json={
            "emails": [
                "ada@example.com",
                "Grace@Example.com",
                "not an address",
                "already@acme.example",
            ],
            "role": "member",
            "message": "Welcome aboard!\nSee you there.",
        },
    )
    assert bulk.status_code == 200, bulk.json
    outcomes = {r["email"]: r["outcome"] for r in bulk.json["data"]}
    assert outcomes == {
        "ada@example.com": "invited",
        "Grace@Example.com": "invited",
        "not an address": "invalid_email",
        "already@acme.example": "already_member",
    }
    assert bulk.json["invited"] == 2
    grace = next(r for r in bulk.json["data"] if r["email"] == "Grace@Example.com")["invitation"]
    assert grace["email"] == "grace@example.com"
    assert grace["status"] == "pending"
    assert grace["id"].startswith("inv_")

    listed = api.get(f"/orgs/{platform}/invitations?status=pending").json
    assert {i["email"] for i in listed["data"]} == {"ada@example.com", "grace@example.com"}

    revoked = api.post(f"/orgs/{platform}/invitations/{grace['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json["status"] == "revoked"
    assert api.post(f"/orgs/{platform}/invitations/{grace['id']}/revoke").status_code == 409
    pending = api.get(f"/orgs/{platform}/invitations?status=pending").json["data"]
    assert [i["email"] for i in pending] == ["ada@example.com"]
    assert [
        i["email"] for i in api.get(f"/orgs/{platform}/invitations?status=revoked").json["data"]
    ] == ["grace@example.com"]
    with app.app_context():
        mail = db.session.scalars(sa.select(OutboxEmail.to_address)).all()
        assert sorted(mail) == ["ada@example.com", "grace@example.com"]
        events = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.actor_type == "api_key")
        ).all()
        assert sorted(events) == ["invitation.created", "invitation.created", "invitation.revoked"]


def test_single_invitation_answers(api: ApiClient, tree):
    platform = tree["platform"].public_id
    made = api.post(f"/orgs/{platform}/invitations", json={"email": "Ada@Example.com"})
    assert made.status_code == 201
    assert made.json["email"] == "ada@example.com"
    again = api.post(f"/orgs/{platform}/invitations", json={"email": "ada@example.com"})
    assert again.status_code == 409
    bad = api.post(f"/orgs/{platform}/invitations", json={"email": "ada@localhost"})
    assert bad.status_code == 422
    resent = api.post(f"/orgs/{platform}/invitations/{made.json['id']}/resend")
    assert resent.status_code == 200
    got = api.get(f"/orgs/{platform}/invitations/{made.json['id']}")
    assert got.json["id"] == made.json["id"]
    elsewhere = api.get(f"/orgs/{tree['sales'].public_id}/invitations/{made.json['id']}")
    assert elsewhere.status_code == 404


def test_an_invitation_from_the_api_can_be_accepted(app, api: ApiClient, client, tree):
    from app.credentials import new_token

    made = api.post(
        f"/orgs/{tree['sales'].public_id}/invitations", json={"email": "new@example.com"}
    )
    token = new_token()
    with app.app_context():
        from app.credentials import hash_token

        invitation = db.session.scalar(
            sa.select(Invitation).where(Invitation.public_id == made.json["id"])
        )
        invitation.token_hash = hash_token(token)  # the emailed link's token, known to the test
        db.session.commit()
    response = client.post(
        f"/invitations/{token}/sign-up",
        data={"name": "New Person", "password": "a-long-password-1"},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:400]
    members = api.get(f"/orgs/{tree['sales'].public_id}/members").json["data"]
    assert [m["user"]["email"] for m in members] == ["new@example.com"]
    accepted = api.get(f"/orgs/{tree['sales'].public_id}/invitations/{made.json['id']}")
    assert accepted.json["status"] == "accepted"


# --- teams, roles, users -------------------------------------------------------------


def test_teams(api: ApiClient, tenant, tree, create_user, add_member):
    dev = create_user(tenant, "dev@acme.example")
    add_member(tree["engineering"], dev)
    platform = tree["platform"].public_id
    team = api.post(f"/orgs/{platform}/teams", json={"name": "On-call"})
    assert team.status_code == 201
    team_id = team.json["id"]
    assert api.post(f"/orgs/{platform}/teams", json={"name": "On-call"}).status_code == 422
    added = api.post(f"/orgs/{platform}/teams/{team_id}/members", json={"user_id": dev.public_id})
    assert added.status_code == 201
    assert added.json["member_count"] == 1
    assert (
        api.post(
            f"/orgs/{platform}/teams/{team_id}/members", json={"user_id": dev.public_id}
        ).status_code
        == 409
    )
    people = api.get(f"/orgs/{platform}/teams/{team_id}/members").json["data"]
    assert [p["email"] for p in people] == ["dev@acme.example"]
    member = api.get(f"/orgs/{platform}/members/{dev.public_id}").json
    assert member["team_ids"] == [team_id]
    renamed = api.patch(f"/orgs/{platform}/teams/{team_id}", json={"name": "SRE"})
    assert renamed.json["name"] == "SRE"
    assert [t["name"] for t in api.get(f"/orgs/{platform}/teams").json["data"]] == ["SRE"]
    assert (
        api.delete(f"/orgs/{platform}/teams/{team_id}/members/{dev.public_id}").status_code == 204
    )
    assert api.delete(f"/orgs/{platform}/teams/{team_id}").status_code == 204
    assert api.get(f"/orgs/{platform}/teams/{team_id}").status_code == 404


def test_roles(api: ApiClient, tree):
    built_in = api.get("/roles").json["data"]
    assert [r["key"] for r in built_in] == ["owner", "admin", "member", "viewer"]
    assert all(r["id"] is None and r["built_in"] for r in built_in)
    made = api.post(
        "/roles",
        json={"key": "billing", "name": "Billing", "permissions": ["org:read", "members:read"]},
    )
    assert made.status_code == 201, made.json
    assert made.json["id"].startswith("role_")
    bad = api.post("/roles", json={"key": "x2", "name": "Bad", "permissions": ["root"]})
    assert bad.status_code == 422
    updated = api.patch(f"/roles/{made.json['id']}", json={"permissions": ["org:read"]})
    assert updated.json["permissions"] == ["org:read"]
    assert updated.json["name"] == "Billing"
    assert api.get("/roles").json["data"][-1]["key"] == "billing"
    assert api.delete(f"/roles/{made.json['id']}").status_code == 204
    assert api.get(f"/roles/{made.json['id']}").status_code == 404


def test_a_role_in_use_needs_a_replacement(api: ApiClient, tenant, tree, create_user, add_member):
    made = api.post(
        "/roles", json={"key": "billing", "name": "Billing", "permissions": ["org:read"]}
    ).json
    add_member(tree["sales"], create_user(tenant, "pay@acme.example"), "billing")
    assert api.delete(f"/roles/{made['id']}").status_code == 409
    assert api.delete(f"/roles/{made['id']}?reassign_to=viewer").status_code == 204
    roles = [m["role"] for m in api.get(f"/orgs/{tree['sales'].public_id}/members").json["data"]]
    assert roles == ["viewer"]


def test_users_list_get_deactivate(app, api: ApiClient, tenant, owner, create_user):
    other_owner = create_user(tenant, "second@acme.example", tenant_role=TenantRole.OWNER)
    listed = api.get("/users").json["data"]
    assert {u["email"] for u in listed} == {owner.email, other_owner.email}
    assert [u["email"] for u in api.get("/users?q=second").json["data"]] == ["second@acme.example"]
    got = api.get(f"/users/{owner.public_id}").json
    assert got["tenant_role"] == "owner"
    off = api.post(f"/users/{other_owner.public_id}/deactivate")
    assert off.status_code == 200
    assert off.json["is_active"] is False
    last = api.post(f"/users/{owner.public_id}/deactivate")
    assert last.status_code == 409
    assert api.post(f"/users/{other_owner.public_id}/reactivate").json["is_active"] is True


def test_a_failed_change_changes_nothing(app, api: ApiClient, tree):
    """One transaction per request: the rename made before the bad settings is undone."""
    path = f"/orgs/{tree['sales'].public_id}"
    response = api.patch(path, json={"name": "Renamed", "settings": {"k" * 65: 1}})
    assert response.status_code == 422
    assert api.get(path).json["name"] == "Sales"
    with app.app_context():
        assert not db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "org.updated")
        )
