from flask import abort, flash, g, redirect, url_for

from app.extensions import db
from app.policy import Perm
from app.rendering import render
from app.services import accounts, members, teams
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.validation import normalize_email
from app.teams import bp
from app.teams.forms import AddTeamMemberForm, CreateTeamForm, RenameTeamForm


def _require(permission: str) -> None:
    if not g.access.can(permission):
        abort(403, "You don't have permission to do that in this organization.")


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


def _team(public_id: str):
    try:
        return teams.get_team(g.org, public_id)
    except NotFound:
        abort(404)


@bp.route("/", methods=["GET", "POST"])
def index():
    _require(Perm.MEMBERS_READ)
    form = CreateTeamForm()
    if form.is_submitted():
        _require(Perm.TEAMS_MANAGE)
        if form.validate():
            try:
                team = teams.create_team(
                    Actor.for_user(g.user), g.tenant, g.org, name=form.name.data
                )
            except ValidationFailed as error:
                form.apply_service_error(error)
            else:
                db.session.commit()
                flash(f"Team {team.name} is created.", "success")
                return redirect(url_for("tenant.teams.team", public_id=team.public_id), code=303)
    return render(
        "teams/index.html",
        org=g.org,
        teams=teams.list_teams(g.org),
        form=form,
        can_manage=g.access.can(Perm.TEAMS_MANAGE),
        status=_status(form),
    )


def _team_page(team, *, add_form=None, rename_form=None, status=200):
    return render(
        "teams/team.html",
        org=g.org,
        team=team,
        people=teams.team_members(team),
        add_form=add_form or AddTeamMemberForm(formdata=None),
        rename_form=rename_form or RenameTeamForm(formdata=None, obj=team),
        can_manage=g.access.can(Perm.TEAMS_MANAGE),
        status=status,
    )


@bp.get("/<public_id>")
def team(public_id: str):
    _require(Perm.MEMBERS_READ)
    return _team_page(_team(public_id))


@bp.post("/<public_id>/rename")
def rename(public_id: str):
    _require(Perm.TEAMS_MANAGE)
    found = _team(public_id)
    form = RenameTeamForm()
    if form.validate():
        try:
            teams.rename_team(Actor.for_user(g.user), g.tenant, g.org, found, name=form.name.data)
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash("Team renamed.", "success")
            return redirect(url_for("tenant.teams.team", public_id=public_id), code=303)
        db.session.rollback()
        found = _team(public_id)
    return _team_page(found, rename_form=form, status=422)


@bp.post("/<public_id>/delete")
def delete(public_id: str):
    _require(Perm.TEAMS_MANAGE)
    found = _team(public_id)
    name = found.name
    teams.delete_team(Actor.for_user(g.user), g.tenant, g.org, found)
    db.session.commit()
    flash(f"Team {name} is deleted.", "success")
    return redirect(url_for("tenant.teams.index"), code=303)


@bp.post("/<public_id>/members")
def add_member(public_id: str):
    _require(Perm.TEAMS_MANAGE)
    found = _team(public_id)
    form = AddTeamMemberForm()
    if form.validate():
        try:
            person = accounts.find_user(g.tenant, normalize_email(form.email.data))
            if person is None:
                raise ValidationFailed(
                    "Nobody with that email is in this workspace.", field="email"
                )
            teams.add_to_team(Actor.for_user(g.user), g.tenant, g.org, found, person)
        except (ValidationFailed, Conflict) as error:
            error.field_errors = {"email": error.message}
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"{person.display_name} is added to {found.name}.", "success")
            return redirect(url_for("tenant.teams.team", public_id=public_id), code=303)
    return _team_page(found, add_form=form, status=422)


@bp.post("/<public_id>/members/<user_id>/remove")
def remove_member(public_id: str, user_id: str):
    _require(Perm.TEAMS_MANAGE)
    found = _team(public_id)
    try:
        person = members.find_tenant_user(g.tenant, user_id)
    except NotFound:
        abort(404)
    teams.remove_from_team(Actor.for_user(g.user), g.tenant, g.org, found, person)
    db.session.commit()
    flash(f"{person.display_name} is removed from {found.name}.", "success")
    return redirect(url_for("tenant.teams.team", public_id=public_id), code=303)
