"""Audit events in words: "Ada Lovelace changed Grace Hopper's role from Member to Admin in
Engineering", for people who read the log, beside the raw code for those who search by it.

``ACTIONS`` is the catalogue of every action code the app writes, each with a short label
(for the log's action filter), where it happens (an org, the tenant, the platform) and
how it reads. ``load_names`` fetches, for one page of events at once, the people, orgs
and role names the sentences mention (a few queries, however many events); ``describe``
writes one event's sentence from them. Whatever can no longer be found (a deleted
account, a deleted custom role) reads by the label stored with the event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from markupsafe import Markup, escape

from app.extensions import db
from app.models import ActorType, AuditEvent, CustomRole, Organization, User
from app.policy import BUILT_IN_ROLES

# --- the names a page of events mentions ---------------------------------------------


@dataclass
class Names:
    """Who and what a page of events mentions, looked up once for the whole page."""

    users: dict[str, User] = field(default_factory=dict)  # by public id
    users_by_email: dict[tuple[int, str], User] = field(default_factory=dict)
    orgs: dict[int, Organization] = field(default_factory=dict)
    orgs_by_public_id: dict[str, Organization] = field(default_factory=dict)
    custom_roles: dict[tuple[int, str], str] = field(default_factory=dict)  # name by key

    def role_name(self, tenant_id: int | None, key: Any) -> str:
        if not isinstance(key, str) or not key:
            return "no role"
        if key in BUILT_IN_ROLES:
            return BUILT_IN_ROLES[key].name
        return self.custom_roles.get((tenant_id or 0, key), key)


NO_NAMES = Names()

# Keys of before/after values that hold a role key, a user's address or an org's id.
ROLE_KEYS = ("role", "reassigned_to")
EMAIL_KEYS = ("user", "previous_owner")
ORG_KEYS = ("parent", "org")


def _values(event: AuditEvent) -> Iterable[tuple[str, Any]]:
    for side in (event.before, event.after):
        if isinstance(side, dict):
            yield from side.items()


def _either(*conditions: sa.ColumnElement[bool] | None) -> sa.ColumnElement[bool]:
    """The conditions given, OR-ed. Each looks rows up by a unique key (an id, a public
    id, a tenant's address), so the planner reads each one's index: with a tenant filter
    around them (or an empty IN beside them) SQLite walked every user of the tenant."""
    return sa.or_(*(condition for condition in conditions if condition is not None))


def load_names(events: Iterable[AuditEvent]) -> Names:
    """The names ``events`` mention, in at most three queries (none when they mention
    nothing to look up), whatever the number of events or tenants among them."""
    user_ids: set[str] = set()
    emails: set[str] = set()
    tenant_ids: set[int] = set()
    org_ids: set[int] = set()
    org_public_ids: set[str] = set()
    role_keys: set[str] = set()
    for event in events:
        if event.tenant_id is None:
            continue
        tenant_ids.add(event.tenant_id)
        if event.actor_type == ActorType.USER and event.actor_id:
            user_ids.add(event.actor_id)
        if event.target_type == "user" and event.target_id:
            user_ids.add(event.target_id)
        if event.org_id is not None:
            org_ids.add(event.org_id)
        for key, value in _values(event):
            if not isinstance(value, str) or not value:
                continue
            if key in EMAIL_KEYS:
                emails.add(value)
            elif key in ORG_KEYS:
                org_public_ids.add(value)
            elif key in ROLE_KEYS and value not in BUILT_IN_ROLES:
                role_keys.add(value)
    names = Names()
    if user_ids or emails:
        for user in db.session.scalars(
            sa.select(User)
            .options(so.load_only(User.public_id, User.tenant_id, User.email, User.name))
            .where(
                _either(
                    User.public_id.in_(user_ids) if user_ids else None,
                    sa.and_(User.tenant_id.in_(tenant_ids), User.email.in_(emails))
                    if emails
                    else None,
                )
            )
        ):
            if user.tenant_id not in tenant_ids:
                continue  # a public id is unique everywhere; only these tenants' users
            names.users[user.public_id] = user
            names.users_by_email[(user.tenant_id, user.email)] = user
    if org_ids or org_public_ids:
        for org in db.session.scalars(
            sa.select(Organization)
            .options(
                so.load_only(
                    Organization.public_id,
                    Organization.tenant_id,
                    Organization.name,
                    Organization.slug,
                    Organization.deleted_at,
                )
            )
            .where(
                _either(
                    Organization.id.in_(org_ids) if org_ids else None,
                    Organization.public_id.in_(org_public_ids) if org_public_ids else None,
                )
            )
        ):
            if org.tenant_id not in tenant_ids:
                continue
            names.orgs[org.id] = org
            names.orgs_by_public_id[org.public_id] = org
    if role_keys:
        for tenant_id, key, name in db.session.execute(
            sa.select(CustomRole.tenant_id, CustomRole.key, CustomRole.name).where(
                CustomRole.tenant_id.in_(tenant_ids), CustomRole.key.in_(role_keys)
            )
        ):
            names.custom_roles[(tenant_id, key)] = name
    return names


# --- one event's words ---------------------------------------------------------------

SYSTEM_ACTORS = {
    "system": "The system",
    "anonymous": "Someone not signed in",
    "cli": "An operator at the command line",
    "demo seed": "The demo seed",
}


def one_line(text: Any) -> str:
    """Whitespace and control characters folded to single spaces: a label or value can't
    break a sentence (or forge a line of the log)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())


def _strong(text: Any) -> Markup:
    return Markup("<strong>{}</strong>").format(one_line(text))


def _quoted(value: Any) -> Markup:
    return Markup("“{}”").format(one_line(value) if isinstance(value, str) else "")


def _plural(count: Any, noun: str) -> str:
    number = count if isinstance(count, int) else 0
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _field_list(keys: Iterable[str]) -> str:
    words = [FIELD_WORDS.get(key, one_line(key).replace("_", " ")) for key in keys]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


FIELD_WORDS = {
    "logo_url": "logo",
    "slug": "address",
    "personal_orgs": "personal organizations",
    "allowed_email_domains": "allowed email domains",
}


class Words:
    """What one event's sentence is made of, each part escaped and looked up in
    ``names`` (falling back to the label stored with the event)."""

    def __init__(self, event: AuditEvent, names: Names) -> None:
        self.event = event
        self.names = names

    def before(self, key: str) -> Any:
        return self.event.before.get(key) if isinstance(self.event.before, dict) else None

    def after(self, key: str) -> Any:
        return self.event.after.get(key) if isinstance(self.event.after, dict) else None

    def person(self, public_id: str | None, label: str) -> Markup:
        user = self.names.users.get(public_id or "")
        if user is not None and user.tenant_id == self.event.tenant_id:
            return _strong(user.display_name)
        return _strong(label or "someone")

    def person_by_email(self, email: Any) -> Markup:
        if not isinstance(email, str) or not email:
            return _strong("someone")
        user = self.names.users_by_email.get((self.event.tenant_id or 0, email))
        return _strong(user.display_name if user is not None else email)

    @property
    def actor(self) -> Markup:
        event = self.event
        if event.actor_type == ActorType.USER:
            return self.person(event.actor_id, event.actor_label)
        if event.actor_type == ActorType.STAFF:
            # Support's changes stand out: the word is a badge, and still reads as a word.
            return Markup('<span class="badge">Support</span> ({})').format(
                _strong(event.actor_label or "staff")
            )
        if event.actor_type == ActorType.API_KEY:
            return _strong(event.actor_label or "An API key")
        label = one_line(event.actor_label)
        known = SYSTEM_ACTORS.get(label)
        return escape(known or (label[:1].upper() + label[1:]) or "Someone")

    @property
    def target(self) -> Markup:
        event = self.event
        if event.target_type == "user":
            return self.person(event.target_id, event.target_label)
        return _strong(event.target_label or "something")

    @property
    def acting_on_self(self) -> bool:
        event = self.event
        return bool(event.actor_id) and event.actor_id == event.target_id

    @property
    def whose(self) -> Markup:
        """The target's, as a possessive: "Grace Hopper's", or "their own"."""
        if self.acting_on_self:
            return Markup("their own")
        return Markup("{}'s").format(self.target)

    @property
    def org(self) -> Markup:
        event = self.event
        org = self.names.orgs.get(event.org_id) if event.org_id is not None else None
        if org is not None and org.tenant_id == event.tenant_id:
            return self._org_name(org)
        if event.target_type == "org" and event.target_label:
            return _strong(event.target_label)
        return Markup("an organization that no longer exists")

    def org_by_public_id(self, public_id: Any) -> Markup:
        org = self.names.orgs_by_public_id.get(public_id) if isinstance(public_id, str) else None
        if org is not None and org.tenant_id == self.event.tenant_id:
            return self._org_name(org)
        return Markup("an organization that no longer exists")

    @staticmethod
    def _org_name(org: Organization) -> Markup:
        if org.deleted_at is not None:
            return Markup("{} (deleted)").format(_strong(org.name))
        return _strong(org.name)

    def role(self, key: Any) -> Markup:
        return _strong(self.names.role_name(self.event.tenant_id, key))

    def changed_keys(self) -> str:
        keys = {*(self.event.before or {}), *(self.event.after or {})}
        return _field_list(sorted(keys, key=str))

    def say(self, template: str, **parts: Any) -> Markup:
        """``template`` (always one of this module's own literals, never data) with {actor}
        and the given parts filled in, each escaped."""
        return Markup(template).format(actor=self.actor, **parts)  # noqa: S704


Sentence = Callable[[Words], Markup]


@dataclass(frozen=True)
class Action:
    label: str  # short, for the action filter: "Role changed"
    group: str  # the filter's group: "Members"
    where: str  # ORG (recorded in an org), TENANT (the tenant's own) or PLATFORM
    sentence: Sentence


ORG, TENANT, PLATFORM = "org", "tenant", "platform"


# --- how each action reads -----------------------------------------------------------


def _org_created(w: Words) -> Markup:
    parent = w.after("parent")
    if parent:
        return w.say(
            "{actor} created {org} under {parent}", org=w.org, parent=w.org_by_public_id(parent)
        )
    return w.say("{actor} created {org}", org=w.org)


def _org_updated(w: Words) -> Markup:
    """A rename says from what (the org is shown by its name now); other changes by
    what they touched."""
    old_name, new_name = w.before("name"), w.after("name")
    others = sorted({*(w.event.before or {}), *(w.event.after or {})} - {"name"}, key=str)
    rest = _field_list(others)
    if old_name and new_name:
        also = f", and changed its {rest}" if rest else ""
        return w.say(
            "{actor} renamed {old} to {org}{also}", old=_strong(old_name), org=w.org, also=also
        )
    return w.say("{actor} changed the {fields} of {org}", fields=rest or "details", org=w.org)


def _org_moved(w: Words) -> Markup:
    def place(public_id: Any) -> Markup:
        if not public_id:
            return Markup("the top level")
        return w.org_by_public_id(public_id)

    return w.say(
        "{actor} moved {org} from {old} to {new}",
        org=w.org,
        old=place(w.before("parent")),
        new=place(w.after("parent")),
    )


def _with_subtree(w: Words, verb: str, key: str) -> Markup:
    count = w.after(key)
    below = count - 1 if isinstance(count, int) and count > 1 else 0
    if below:
        return w.say(
            "{actor} " + verb + " {org} and its {below}",
            org=w.org,
            below=_plural(below, "sub-organization"),
        )
    return w.say("{actor} " + verb + " {org}", org=w.org)


def _data_updated(what: str) -> Sentence:
    return lambda w: w.say("{actor} changed the " + what + " of {org}", org=w.org)


def _member_removed(w: Words) -> Markup:
    return w.say(
        "{actor} removed {target} ({role}) from {org}",
        target=w.target,
        role=w.role(w.before("role")),
        org=w.org,
    )


def _member_restored(w: Words) -> Markup:
    teams = w.after("teams")
    count = len(teams) if isinstance(teams, list) else 0
    with_teams = Markup(", in {}").format(_plural(count, "team")) if count else Markup("")
    return w.say(
        "{actor} undid removing {target} from {org}: back as {role}{with_teams}",
        target=w.target,
        org=w.org,
        role=w.role(w.after("role")),
        with_teams=with_teams,
    )


def _role_changed(w: Words) -> Markup:
    return w.say(
        "{actor} changed {whose} role from {old} to {new} in {org}",
        whose=w.whose,
        old=w.role(w.before("role")),
        new=w.role(w.after("role")),
        org=w.org,
    )


def _ownership_transferred(w: Words) -> Markup:
    previous = w.before("previous_owner")
    if previous:
        return w.say(
            "{actor} made {target} an owner of {org} in place of {previous}",
            target=w.target,
            org=w.org,
            previous=w.person_by_email(previous),
        )
    return w.say("{actor} made {target} an owner of {org}", target=w.target, org=w.org)


def _invitation(template: str) -> Sentence:
    return lambda w: w.say(
        template,
        email=w.target,
        org=w.org,
        role=w.role(w.after("role")),
    )


def _join_link_created(w: Words) -> Markup:
    domain = w.after("allowed_domain")
    limit = Markup(" for addresses at {}").format(_strong(domain)) if domain else Markup("")
    return w.say(
        "{actor} created a join link to {org} as {role}{limit}",
        org=w.org,
        role=w.role(w.after("role")),
        limit=limit,
    )


def _team(template: str, user_key: str | None = None) -> Sentence:
    def sentence(w: Words) -> Markup:
        person = w.person_by_email(w.after(user_key) or w.before(user_key)) if user_key else ""
        return w.say(template, team=w.target, org=w.org, person=person)

    return sentence


def _team_renamed(w: Words) -> Markup:
    return w.say(
        "{actor} renamed the team {old} to {new} in {org}",
        old=_strong(w.before("name") or w.event.target_label),
        new=_strong(w.after("name") or w.event.target_label),
        org=w.org,
    )


def _role_deleted(w: Words) -> Markup:
    moved = w.after("memberships_moved")
    if moved:
        return w.say(
            "{actor} deleted the role {role}, moving {count} to {new}",
            role=w.target,
            count=_plural(moved, "membership"),
            new=w.role(w.after("reassigned_to")),
        )
    return w.say("{actor} deleted the role {role}", role=w.target)


def _api_key_created(w: Words) -> Markup:
    org = w.after("org")
    within = Markup(" for {}").format(w.org_by_public_id(org)) if org else Markup("")
    return w.say("{actor} created the API key {key}{within}", key=w.target, within=within)


def _changed(what: str) -> Sentence:
    def sentence(w: Words) -> Markup:
        fields = w.changed_keys()
        detail = f": {fields}" if fields else ""
        return w.say("{actor} changed " + what + "{detail}", target=w.target, detail=detail)

    return sentence


def _by_self_or_other(own: str, other: str) -> Sentence:
    """Something done to an account: by its holder ("X changed their password"), or by
    someone else ("Support (…) deactivated X's account")."""

    def sentence(w: Words) -> Markup:
        if w.acting_on_self or w.event.actor_type == ActorType.SYSTEM:
            return Markup(own).format(target=w.target, **_extras(w))  # noqa: S704 (a literal)
        return w.say(other, target=w.target, whose=w.whose, **_extras(w))

    return sentence


def _extras(w: Words) -> dict[str, Any]:
    return {
        "new_email": _strong(w.after("email") or ""),
        "old_email": _strong(w.before("email") or ""),
        "old_name": _quoted(w.before("name")),
        "new_name": _quoted(w.after("name")),
    }


def _signed_up(w: Words) -> Markup:
    if w.after("via") == "invitation":
        return Markup("{} signed up through an invitation").format(w.target)
    return Markup("{} signed up").format(w.target)


def _password_changed(w: Words) -> Markup:
    via = w.after("via")
    how = {"reset": " with a reset link", "welcome": " from the welcome email"}.get(via, "")
    return Markup("{} set a new password{}").format(w.target, how)


def _reset_requested(w: Words) -> Markup:
    if w.event.actor_type in (ActorType.STAFF, ActorType.USER) and not w.acting_on_self:
        return w.say("{actor} sent {target} a password reset link", target=w.target)
    return Markup("{} asked for a password reset link").format(w.target)


def _view_as_started(w: Words) -> Markup:
    reason = w.after("reason")
    because = Markup(": {}").format(_quoted(reason)) if reason else Markup("")
    return w.say("{actor} started viewing as {target}{because}", target=w.target, because=because)


def _view_as_ended(w: Words) -> Markup:
    why = w.after("reason")
    how = Markup(" ({})").format(one_line(why)) if isinstance(why, str) and why else Markup("")
    return w.say("{actor} stopped viewing as {target}{how}", target=w.target, how=how)


def _staff_created(w: Words) -> Markup:
    role = w.after("role")
    as_role = (
        Markup(" as {}").format(one_line(role)) if isinstance(role, str) and role else Markup("")
    )
    return w.say(
        "{actor} created the staff account {target}{as_role}", target=w.target, as_role=as_role
    )


def _demo_generated(w: Words) -> Markup:
    return w.say(
        "{actor} generated {orgs} and {memberships}",
        orgs=_plural(w.after("organizations"), "organization"),
        memberships=_plural(w.after("memberships"), "membership"),
    )


def _simple(template: str) -> Sentence:
    return lambda w: w.say(template, target=w.target, org=w.org, whose=w.whose)


ACTIONS: dict[str, Action] = {
    # organizations
    "org.created": Action("Organization created", "Organizations", ORG, _org_created),
    "org.updated": Action("Organization edited", "Organizations", ORG, _org_updated),
    "org.moved": Action("Organization moved", "Organizations", ORG, _org_moved),
    "org.deleted": Action(
        "Organization deleted",
        "Organizations",
        ORG,
        lambda w: _with_subtree(w, "deleted", "hidden_orgs"),
    ),
    "org.restored": Action(
        "Organization restored",
        "Organizations",
        ORG,
        lambda w: _with_subtree(w, "restored", "restored_orgs"),
    ),
    "org.public_metadata_updated": Action(
        "Public metadata changed", "Organizations", ORG, _data_updated("public metadata")
    ),
    "org.private_metadata_updated": Action(
        "Private metadata changed", "Organizations", ORG, _data_updated("private metadata")
    ),
    "org.settings_updated": Action(
        "Organization settings changed", "Organizations", ORG, _data_updated("settings")
    ),
    "org.ownership_transferred": Action(
        "Ownership transferred", "Organizations", ORG, _ownership_transferred
    ),
    # members
    "member.added": Action(
        "Member added",
        "Members",
        ORG,
        lambda w: w.say(
            "{actor} added {target} to {org} as {role}",
            target=w.target,
            org=w.org,
            role=w.role(w.after("role")),
        ),
    ),
    "member.role_changed": Action("Role changed", "Members", ORG, _role_changed),
    "member.removed": Action("Member removed", "Members", ORG, _member_removed),
    "member.restored": Action("Removal undone", "Members", ORG, _member_restored),
    "member.left": Action(
        "Member left",
        "Members",
        ORG,
        lambda w: Markup("{} left {} ({})").format(w.target, w.org, w.role(w.before("role"))),
    ),
    "member.joined_via_link": Action(
        "Joined through a link",
        "Members",
        ORG,
        lambda w: Markup("{} joined {} as {} through a join link").format(
            w.target, w.org, w.role(w.after("role"))
        ),
    ),
    # invitations
    "invitation.created": Action(
        "Invitation sent",
        "Invitations",
        ORG,
        _invitation("{actor} invited {email} to {org} as {role}"),
    ),
    "invitation.resent": Action(
        "Invitation resent",
        "Invitations",
        ORG,
        _invitation("{actor} resent the invitation for {email} to {org}"),
    ),
    "invitation.revoked": Action(
        "Invitation revoked",
        "Invitations",
        ORG,
        _invitation("{actor} revoked the invitation for {email} to {org}"),
    ),
    "invitation.accepted": Action(
        "Invitation accepted",
        "Invitations",
        ORG,
        _invitation("{actor} accepted the invitation to {org} as {role}"),
    ),
    "invitation.declined": Action(
        "Invitation declined",
        "Invitations",
        ORG,
        lambda w: Markup("{} declined the invitation to {}").format(w.target, w.org),
    ),
    # join links
    "join_link.created": Action("Join link created", "Join links", ORG, _join_link_created),
    "join_link.revoked": Action(
        "Join link revoked", "Join links", ORG, _simple("{actor} revoked a join link to {org}")
    ),
    # teams
    "team.created": Action(
        "Team created", "Teams", ORG, _team("{actor} created the team {team} in {org}")
    ),
    "team.renamed": Action("Team renamed", "Teams", ORG, _team_renamed),
    "team.deleted": Action(
        "Team deleted", "Teams", ORG, _team("{actor} deleted the team {team} from {org}")
    ),
    "team.member_added": Action(
        "Added to a team",
        "Teams",
        ORG,
        _team("{actor} added {person} to the team {team} in {org}", "user"),
    ),
    "team.member_removed": Action(
        "Removed from a team",
        "Teams",
        ORG,
        _team("{actor} removed {person} from the team {team} in {org}", "user"),
    ),
    # roles
    "role.created": Action(
        "Role created", "Roles", TENANT, _simple("{actor} created the role {target}")
    ),
    "role.updated": Action("Role edited", "Roles", TENANT, _changed("the role {target}")),
    "role.deleted": Action("Role deleted", "Roles", TENANT, _role_deleted),
    # API keys and tokens
    "api_key.created": Action("API key created", "API keys and tokens", TENANT, _api_key_created),
    "api_key.narrowed": Action(
        "API key narrowed",
        "API keys and tokens",
        TENANT,
        _simple("{actor} narrowed what the API key {target} may do"),
    ),
    "api_key.revoked": Action(
        "API key revoked",
        "API keys and tokens",
        TENANT,
        _simple("{actor} revoked the API key {target}"),
    ),
    "signing_key.rotated": Action(
        "Signing key rotated",
        "API keys and tokens",
        TENANT,
        _simple("{actor} rotated the key that signs access tokens"),
    ),
    "tenant.token_settings_updated": Action(
        "Access token settings changed",
        "API keys and tokens",
        TENANT,
        _changed("the access token settings"),
    ),
    # the tenant
    "tenant.created": Action(
        "Tenant created", "Tenant", TENANT, _simple("{actor} created the tenant {target}")
    ),
    "tenant.settings_updated": Action(
        "Tenant settings changed", "Tenant", TENANT, _changed("the tenant's settings")
    ),
    "tenant.suspended": Action(
        "Tenant suspended", "Tenant", TENANT, _simple("{actor} suspended the tenant {target}")
    ),
    "tenant.reactivated": Action(
        "Tenant reactivated", "Tenant", TENANT, _simple("{actor} reactivated the tenant {target}")
    ),
    "email.retried": Action(
        "Email retried", "Tenant", TENANT, _simple("{actor} retried sending the email to {target}")
    ),
    "demo.generated": Action("Demo data generated", "Tenant", TENANT, _demo_generated),
    # accounts
    "user.signed_up": Action("Signed up", "Accounts", TENANT, _signed_up),
    "user.signed_in": Action(
        "Signed in", "Accounts", TENANT, lambda w: Markup("{} signed in").format(w.target)
    ),
    "user.profile_updated": Action(
        "Name changed",
        "Accounts",
        TENANT,
        _by_self_or_other(
            "{target} changed their name from {old_name} to {new_name}",
            "{actor} changed {whose} name from {old_name} to {new_name}",
        ),
    ),
    "user.password_changed": Action("Password changed", "Accounts", TENANT, _password_changed),
    "user.password_reset_requested": Action(
        "Password reset requested", "Accounts", TENANT, _reset_requested
    ),
    "user.email_verified": Action(
        "Email address verified",
        "Accounts",
        TENANT,
        _by_self_or_other(
            "{target} proved their email address", "{actor} marked {whose} email address as proven"
        ),
    ),
    "user.email_change_requested": Action(
        "Email change requested",
        "Accounts",
        TENANT,
        _by_self_or_other(
            "{target} asked to change their email address to {new_email}",
            "{actor} asked to change {whose} email address to {new_email}",
        ),
    ),
    "user.email_changed": Action(
        "Email address changed",
        "Accounts",
        TENANT,
        _by_self_or_other(
            "{target} changed their email address from {old_email} to {new_email}",
            "{actor} changed {whose} email address from {old_email} to {new_email}",
        ),
    ),
    "user.deactivated": Action(
        "Account deactivated",
        "Accounts",
        TENANT,
        _simple("{actor} deactivated {whose} account"),
    ),
    "user.reactivated": Action(
        "Account reactivated",
        "Accounts",
        TENANT,
        _simple("{actor} reactivated {whose} account"),
    ),
    # support staff
    "staff.view_as_started": Action(
        "Viewing as started", "Support staff", TENANT, _view_as_started
    ),
    "staff.view_as_ended": Action("Viewing as ended", "Support staff", TENANT, _view_as_ended),
    "staff.signed_in": Action(
        "Staff signed in",
        "Support staff",
        PLATFORM,
        _simple("{actor} signed in to the support console"),
    ),
    "staff.created": Action("Staff account created", "Support staff", PLATFORM, _staff_created),
    "staff.deactivated": Action(
        "Staff account deactivated",
        "Support staff",
        PLATFORM,
        _simple("{actor} deactivated the staff account {target}"),
    ),
    "staff.reactivated": Action(
        "Staff account reactivated",
        "Support staff",
        PLATFORM,
        _simple("{actor} reactivated the staff account {target}"),
    ),
}


def _unknown(w: Words) -> Markup:
    """An action this version has no words for (an older code, kept in the log)."""
    code = Markup("<code>{}</code>").format(one_line(w.event.action))
    if w.event.target_label:
        return w.say("{actor} did {code} to {target}", code=code, target=w.target)
    return w.say("{actor} did {code}", code=code)


def describe(event: AuditEvent, names: Names) -> Markup:
    """The event as a sentence of safe HTML, names in <strong>; ``names`` from
    ``load_names`` over the whole page (``NO_NAMES``: read everything by its label)."""
    action = ACTIONS.get(event.action)
    words = Words(event, names)
    return (action.sentence if action is not None else _unknown)(words)


def describe_text(event: AuditEvent, names: Names) -> str:
    """The same sentence as plain text."""
    return describe(event, names).striptags()


def label_of(code: str) -> str:
    action = ACTIONS.get(code)
    return action.label if action is not None else code


def action_choices(
    *, where: Iterable[str] = (ORG, TENANT, PLATFORM)
) -> dict[str, list[tuple[str, str]]]:
    """The action filter's options, by group: (code, label), for the actions recorded
    ``where`` (an org's log offers only what happens in orgs)."""
    wanted = set(where)
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, action in ACTIONS.items():
        if action.where in wanted:
            groups.setdefault(action.group, []).append((code, action.label))
    return groups
