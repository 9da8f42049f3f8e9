"""Audit entries read as sentences with people's, orgs' and roles' names ("Erin Owner
changed Milo Member's role from Member to Viewer in Engineering"), for every action code
the app writes; the code itself stays in each entry's details and is what the action
filter sends; names are looked up once per page, however many entries it shows."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.actors import Actor
from app.extensions import db
from app.models import AuditEvent, Organization, User
from app.services import invitations, members, org_data, roles, view_as
from app.services.audit import words
from app.services.audit.words import ACTIONS, NO_NAMES, describe_text
from tests.markup import field_value, find_form, one, select, table_rows

ORG_LOG = "/t/acme/orgs/engineering/audit"
TENANT_LOG = "/t/acme/audit"
APP = Path(__file__).resolve().parents[1] / "app"


# --- every action code the app writes has words ------------------------------------
#
# The codes are found in the source, not listed by hand: every call of ``record(actor,
# action, …)`` (and every row built with an "action" key, as the bulk seed does), its
# action followed back through helper parameters (``_record_user_change(…, "user.
# deactivated", …)``) and module constants, to literals or f-string patterns. A new code
# anywhere without words in ACTIONS fails here.


@dataclass(frozen=True)
class _Module:
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]
    constants: dict[str, str]


def _modules() -> list[_Module]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and isinstance(node.value.value, str)
        }
        found.append(_Module(path, tree, parents, constants))
    return found


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _enclosing_function(module: _Module, node: ast.AST) -> ast.FunctionDef | None:
    while node in module.parents:
        node = module.parents[node]
        if isinstance(node, ast.FunctionDef):
            return node
    return None


def _argument(call: ast.Call, function: ast.FunctionDef, param: str) -> ast.expr | None:
    """What ``call`` passes for ``function``'s parameter ``param``."""
    for keyword in call.keywords:
        if keyword.arg == param:
            return keyword.value
    names = [arg.arg for arg in function.args.args]
    index = names.index(param)
    if names and names[0] in ("self", "cls") and isinstance(call.func, ast.Attribute):
        index -= 1
    return call.args[index] if 0 <= index < len(call.args) else None


def _resolve(
    modules: list[_Module], module: _Module, expr: ast.expr, depth: int = 0
) -> Iterator[str | re.Pattern[str]]:
    """The codes (or, for an f-string, the pattern of codes) ``expr`` can hold."""
    assert depth < 6, f"{module.path}: an action passed through too many helpers"
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        yield expr.value
        return
    if isinstance(expr, ast.JoinedStr):
        yield re.compile(
            "".join(
                re.escape(part.value) if isinstance(part, ast.Constant) else "[a-z_]+"
                for part in expr.values
            )
            + "$"
        )
        return
    if isinstance(expr, ast.Name):
        function = _enclosing_function(module, expr)
        if function is not None and expr.id in [arg.arg for arg in function.args.args]:
            callers = [
                (caller_module, call)
                for caller_module in modules
                for call in ast.walk(caller_module.tree)
                if isinstance(call, ast.Call) and _called_name(call) == function.name
            ]
            for caller_module, call in callers:
                argument = _argument(call, function, expr.id)
                if argument is not None:
                    yield from _resolve(modules, caller_module, argument, depth + 1)
            return
        if expr.id in module.constants:
            yield module.constants[expr.id]
            return
    raise AssertionError(
        f"{module.path}:{expr.lineno}: can't tell which action code {ast.unparse(expr)!r}"
        " holds; pass a literal (or a module constant)"
    )


def _written_actions() -> tuple[set[str], set[re.Pattern[str]]]:
    modules = _modules()
    codes: set[str] = set()
    patterns: set[re.Pattern[str]] = set()
    for module in modules:
        if module.path.name == "record.py":  # ``record`` itself: its callers are the writers
            continue
        for node in ast.walk(module.tree):
            expr = None
            if isinstance(node, ast.Call) and _called_name(node) == "record":
                action = [k.value for k in node.keywords if k.arg == "action"]
                expr = action[0] if action else node.args[1] if len(node.args) > 1 else None
            elif isinstance(node, ast.Call) and _called_name(node) == "AuditEvent":
                action = [k.value for k in node.keywords if k.arg == "action"]
                expr = action[0] if action else None
            elif isinstance(node, ast.Dict):  # an event row inserted in bulk
                row = {
                    key.value: value
                    for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(key, ast.Constant)
                }
                if "action" in row and "actor_type" in row:
                    expr = row["action"]
            if expr is not None:
                for found in _resolve(modules, module, expr):
                    (patterns if isinstance(found, re.Pattern) else codes).add(found)
    return codes, patterns


def test_every_action_code_the_app_writes_has_words():
    codes, patterns = _written_actions()
    assert len(codes) > 40  # the walk finds the app's codes, not nothing
    assert {"member.role_changed", "invitation.declined", "demo.generated"} <= codes
    assert not codes - ACTIONS.keys(), "action codes without words in audit/words.py"
    for pattern in patterns:
        assert any(pattern.match(code) for code in ACTIONS), pattern.pattern
    # the one computed code: one per field org_data updates
    for field_name in org_data.FIELDS:
        assert f"org.{field_name}_updated" in ACTIONS
    # and no words for codes nothing writes any more
    stale = {code for code in ACTIONS if code not in codes}
    assert all(any(p.match(code) for p in patterns) for code in stale), stale


def _sample(code: str, tenant_id: int, org_id: int | None, actor: User, target: User):
    values = {
        "role": "member",
        "name": "Old name",
        "email": "old@acme.example",
        "user": target.email,
        "previous_owner": actor.email,
        "parent": None,
        "reason": "checking a ticket",
        "via": "reset",
        "hidden_orgs": 3,
        "restored_orgs": 3,
        "organizations": 2,
        "memberships": 5,
        "reassigned_to": "viewer",
        "memberships_moved": 2,
    }
    return AuditEvent(
        tenant_id=tenant_id,
        org_id=org_id,
        actor_type="user",
        actor_id=actor.public_id,
        actor_label=actor.email,
        action=code,
        target_type="user",
        target_id=target.public_id,
        target_label=target.email,
        before=values,
        after={**values, "role": "admin", "name": "New name", "email": "new@acme.example"},
    )


@pytest.mark.parametrize("code", sorted(ACTIONS))
def test_each_action_reads_as_a_sentence_with_and_without_its_names(app, world, code):
    with app.app_context():
        event = _sample(code, world.tenant.id, world.engineering.id, world.owner, world.member)
        for names in (words.load_names([event]), NO_NAMES):
            sentence = describe_text(event, names)
            assert sentence, code
            assert code not in sentence
            assert not {"{", "}", "None", "[", "<"} & set(sentence.split()), sentence
            assert sentence[0].isupper() or sentence[0].isdigit() or "@" in sentence, sentence
        assert ACTIONS[code].label[:1].isupper()


# --- the sentences people read ---------------------------------------------------------


def _sentences(html: str) -> list[str]:
    return [p.text for p in select(html, ".audit-sentence")]


@pytest.fixture
def auditor_role(app, tenant):
    with app.app_context():
        roles.create_role(
            Actor.system("test"), tenant, key="auditor", name="Auditor", description="",
            permissions=["org:read", "audit:read"],
        )  # fmt: skip
        db.session.commit()


def _as(app, user: User, change) -> None:
    with app.test_request_context():
        actor = Actor.for_user(db.session.get(User, user.id))
        change(actor)
        db.session.commit()


def _org(org: Organization) -> Organization:
    return db.session.get(Organization, org.id)


def test_a_role_change_names_both_people_and_both_roles(app, client, auth, world, auditor_role):
    def change(actor):
        member = db.session.get(User, world.member.id)
        members.change_role(actor, world.tenant, _org(world.engineering), member, "viewer")
        members.change_role(actor, world.tenant, _org(world.engineering), member, "auditor")

    _as(app, world.owner, change)
    auth.login(world.admin)
    said = _sentences(client.get(ORG_LOG).get_data(as_text=True))
    assert "Erin Owner changed Milo Member's role from Viewer to Auditor in Engineering" in said
    assert "Erin Owner changed Milo Member's role from Member to Viewer in Engineering" in said


def test_an_invitation_reads_with_the_address_org_and_role(app, client, auth, world):
    def invite(actor):
        invitations.invite(
            actor, world.tenant, _org(world.engineering),
            addresses=["bob@example.com"], role="member",
        )  # fmt: skip

    _as(app, world.admin, invite)
    auth.login(world.admin)
    said = _sentences(client.get(ORG_LOG).get_data(as_text=True))
    assert "Ada Admin invited bob@example.com to Engineering as Member" in said


def test_support_viewing_as_someone_reads_as_support(app, client, auth, world, create_staff):
    staff = create_staff(email="alice@staff.example")
    with app.test_request_context():
        view_as.start_view_as(
            Actor.for_staff(staff), db.session.get(User, world.member.id), "Ticket 42"
        )
        db.session.commit()
    auth.login(world.tenant_owner)
    html = client.get(TENANT_LOG).get_data(as_text=True)
    assert (
        "Support (alice@staff.example) started viewing as Milo Member: “Ticket 42”"
        in _sentences(html)
    )
    auth.login_staff(staff)
    console = client.get("/staff/audit").get_data(as_text=True)
    assert "Support (alice@staff.example) started viewing as Milo Member: “Ticket 42”" in (
        _sentences(console)
    )
    assert "<code>staff.view_as_started</code>" in console  # the code, in the details


def test_what_is_gone_still_reads_by_the_stored_label(app, client, auth, tenant, world):
    """A deleted account reads by its address as recorded; a deleted org says so; a
    deleted custom role by its key; an org no longer there, in words."""
    with app.app_context():
        db.session.add_all(
            [
                AuditEvent(
                    tenant_id=tenant.id, org_id=world.engineering.id, actor_type="user",
                    actor_id="usr_gone", actor_label="gone@acme.example",
                    action="member.role_changed", target_type="user", target_id="usr_left",
                    target_label="left@acme.example",
                    before={"role": "member"}, after={"role": "qa-lead"},
                ),
                AuditEvent(
                    tenant_id=tenant.id, org_id=None, actor_type="user",
                    actor_id=world.owner.public_id, actor_label=world.owner.email,
                    action="member.removed", target_type="user",
                    target_id=world.member.public_id, target_label=world.member.email,
                    before={"role": "member"},
                ),
                AuditEvent(
                    tenant_id=tenant.id, org_id=world.sales.id, actor_type="system",
                    actor_label="system", action="org.deleted", target_type="org",
                    target_id=world.sales.public_id, target_label="Sales",
                    after={"hidden_orgs": 1},
                ),
            ]
        )  # fmt: skip
        db.session.get(Organization, world.sales.id).deleted_at = db.func.now()
        db.session.commit()
    auth.login(world.tenant_owner)
    said = _sentences(client.get(TENANT_LOG).get_data(as_text=True))
    assert (
        "gone@acme.example changed left@acme.example's role from Member to qa-lead"
        " in Engineering" in said
    )
    assert (
        "Erin Owner removed Milo Member (Member) from an organization that no longer exists" in said
    )
    assert "The system deleted Sales (deleted)" in said


def test_an_unknown_code_still_reads_and_shows_itself(app, client, auth, tenant, world):
    with app.app_context():
        db.session.add(
            AuditEvent(
                tenant_id=tenant.id, org_id=world.engineering.id, actor_type="user",
                actor_id=world.admin.public_id, actor_label=world.admin.email,
                action="legacy.thing", target_label="Widget",
            )
        )  # fmt: skip
        db.session.commit()
    auth.login(world.admin)
    said = _sentences(client.get(ORG_LOG).get_data(as_text=True))
    assert "Ada Admin did legacy.thing to Widget" in said


def test_sentences_escape_what_people_typed(app, client, auth, tenant, world):
    with app.app_context():
        db.session.add(
            AuditEvent(
                tenant_id=tenant.id, org_id=world.engineering.id, actor_type="user",
                actor_label="<img src=x onerror=alert(1)>", action="invitation.created",
                target_type="invitation", target_label="<b>x</b>@example.com",
                after={"role": "<script>"},
            )
        )  # fmt: skip
        db.session.commit()
    auth.login(world.admin)
    html = client.get(ORG_LOG).get_data(as_text=True)
    assert "<img src=x" not in html
    assert "<b>x</b>" not in html
    assert "<strong>&lt;script&gt;</strong>" in html


# --- the action filter: words shown, codes sent -----------------------------------------


def test_the_action_filter_offers_actions_by_their_words_with_codes_as_values(
    app, client, auth, tenant, world
):
    auth.login(world.tenant_owner)
    html = client.get(ORG_LOG).get_data(as_text=True)
    action = one(html, "select#action")
    options = {o.get("value"): o.text for o in action.select("option")}
    assert options[""] == "Any action"
    assert options["member.role_changed"] == "Role changed"
    assert options["invitation.created"] == "Invitation sent"
    assert "api_key.created" not in options  # an org's log offers what happens in orgs
    assert [g.get("label") for g in action.select("optgroup")][:2] == ["Organizations", "Members"]
    tenant_options = {
        o.get("value")
        for o in one(client.get(TENANT_LOG).get_data(True), "select#action").select("option")
    }
    assert {"api_key.created", "member.role_changed", "user.signed_in"} <= tenant_options


def test_filtering_by_a_code_still_works_and_keeps_it_chosen(app, client, auth, tenant, world):
    with app.app_context():
        for code in ("member.role_changed", "member.removed", "member.added"):
            db.session.add(
                AuditEvent(
                    tenant_id=tenant.id, org_id=world.engineering.id, actor_type="system",
                    actor_label="system", action=code,
                )
            )  # fmt: skip
        db.session.commit()
    auth.login(world.admin)
    html = client.get(f"{ORG_LOG}?action=member.role_changed").get_data(as_text=True)
    assert [row["When"].parent["data-action"] for row in table_rows(html)] == [
        "member.role_changed"
    ]
    assert field_value(find_form(html, id="audit-filters"), "action") == "member.role_changed"
    # a code's start typed into the address still filters, and is offered back as chosen
    by_prefix = client.get(f"{ORG_LOG}?action=member.").get_data(as_text=True)
    assert len(table_rows(by_prefix)) == 3
    assert field_value(find_form(by_prefix, id="audit-filters"), "action") == "member."
    assert "Codes starting “member.”" in by_prefix


# --- names are looked up per page, not per entry --------------------------------------


def _fill(app, tenant, orgs: list[Organization], count: int, start: int) -> None:
    """``count`` role changes, each by and about people of their own, in several orgs,
    with custom roles: every entry names different people."""
    with app.app_context():
        for i in range(start, start + count):
            actor = User(tenant_id=tenant.id, email=f"a{i}@acme.example", name=f"Actor {i}")
            target = User(tenant_id=tenant.id, email=f"t{i}@acme.example", name=f"Target {i}")
            db.session.add_all([actor, target])
            db.session.flush()
            db.session.add(
                AuditEvent(
                    tenant_id=tenant.id, org_id=orgs[i % len(orgs)].id, actor_type="user",
                    actor_id=actor.public_id, actor_label=actor.email,
                    action="member.role_changed", target_type="user",
                    target_id=target.public_id, target_label=target.email,
                    before={"role": "auditor"}, after={"role": "admin"},
                )
            )  # fmt: skip
        db.session.commit()


@pytest.mark.parametrize("path", [ORG_LOG, TENANT_LOG])
def test_a_log_page_makes_the_same_queries_for_5_and_50_entries(
    app, client, auth, tenant, world, auditor_role, count_queries, path
):
    orgs = [world.engineering] if path == ORG_LOG else [world.engineering, world.sales]
    auth.login(world.tenant_owner)

    def queries() -> tuple[int, str]:
        client.get(path)  # counted warm: the first request may fill the tenant cache
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200
        return counter.count, response.get_data(as_text=True)

    _fill(app, tenant, orgs, 5, start=0)
    small, html = queries()
    assert _sentences(html)[0].startswith("Actor 4 changed Target 4's role from Auditor to Admin")
    _fill(app, tenant, orgs, 45, start=5)
    large, html = queries()
    assert len(table_rows(html)) == 50
    assert _sentences(html)[0].startswith("Actor 49 changed Target 49's role from Auditor to Admin")
    assert small == large


def _say(world, **fields) -> str:
    values = {
        "tenant_id": world.tenant.id,
        "org_id": world.engineering.id,
        "actor_type": "user",
        "actor_id": world.owner.public_id,
        "actor_label": world.owner.email,
        **fields,
    }
    event = AuditEvent(**values)
    return describe_text(event, words.load_names([event]))


def test_renames_moves_and_keys_read_naturally(app, world):
    with app.app_context():
        assert (
            _say(
                world, action="org.updated", target_type="org", target_label="Old Eng",
                before={"name": "Old Eng", "slug": "old-eng"},
                after={"name": "Engineering", "slug": "engineering"},
            )
            == "Erin Owner renamed Old Eng to Engineering, and changed its address"
        )  # fmt: skip
        assert (
            _say(
                world, action="org.moved", target_type="org", target_label="Engineering",
                before={"parent": world.hq.public_id}, after={"parent": None},
            )
            == "Erin Owner moved Engineering from Acme HQ to the top level"
        )  # fmt: skip
        assert (
            _say(
                world, action="member.role_changed", target_type="user",
                target_id=world.owner.public_id, target_label=world.owner.email,
                before={"role": "owner"}, after={"role": "admin"},
            )
            == "Erin Owner changed their own role from Owner to Admin in Engineering"
        )  # fmt: skip
        assert (
            _say(
                world, action="api_key.revoked", actor_type="api_key", actor_id="key_1",
                actor_label="API key “CI” (made by erin@acme.example)", org_id=None,
                target_type="api_key", target_label="Deploy",
            )
            == "API key “CI” (made by erin@acme.example) revoked the API key Deploy"
        )  # fmt: skip


def test_names_are_only_ever_looked_up_in_the_events_own_tenant(
    app, world, create_tenant, create_user, create_org
):
    """Users and orgs are found by their (globally unique) public ids without a tenant
    filter in SQL, so the index serves it: another tenant's never reach the words."""
    other = create_tenant("Globex", slug="globex")
    stranger = create_user(other, "gina@globex.example", name="Gina Globex")
    research = create_org(other, "Research")
    event = AuditEvent(
        tenant_id=world.tenant.id, org_id=research.id, actor_type="user",
        actor_id=stranger.public_id, actor_label="someone", action="member.role_changed",
        target_type="user", target_id=world.member.public_id, target_label="x",
        before={"org": research.public_id}, after={},
    )  # fmt: skip
    with app.app_context():
        names = words.load_names([event])
    assert stranger.public_id not in names.users
    assert research.id not in names.orgs
    assert research.public_id not in names.orgs_by_public_id
    assert names.users[world.member.public_id].name == "Milo Member"
