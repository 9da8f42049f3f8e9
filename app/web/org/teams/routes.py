"""Teams of an org: the list and a new team, one team's page (its people, rename,
delete). Deleting asks first; without JavaScript on a confirmation page."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.policy import Perm
from app.services import members, orgs, teams
from app.services.pagination import cursor_from
from app.web.org.teams import bp
from app.web.org.teams.forms import AddTeamMemberForm, CreateTeamForm, RenameTeamForm
from app.web.rendering import render
from app.web.scope import here
from app.web.views import confirmation_page, form_status, require


@bp.route("/", methods=["GET", "POST"])
def index():
    require(Perm.MEMBERS_READ)
    form = CreateTeamForm()
    if form.is_submitted():
        require(Perm.TEAMS_MANAGE)
        if form.validate():
            try:
                team = teams.create_team(here.actor, here.tenant, here.org, name=form.name.data)
            except ValidationFailed as error:
                form.apply_service_error(error)
            else:
                db.session.commit()
                flash(f"Team {team.name} created.", "success")
                return redirect(
                    url_for("tenant.org.teams.team", public_id=team.public_id), code=303
                )
    return render(
        "teams/index.html",
        org=here.org,
        teams=teams.list_teams(here.org),
        breadcrumbs=orgs.ancestors(here.org),
        form=form,
        can_manage=here.access.can(Perm.TEAMS_MANAGE),
        status=form_status(form),
    )


def _team_page(team, *, add_form=None, rename_form=None, status=200):
    # The page lists its people: a form shown again with an error is no way around that.
    require(Perm.MEMBERS_READ)
    return render(
        "teams/team.html",
        org=here.org,
        team=team,
        breadcrumbs=orgs.ancestors(here.org),
        people=teams.team_members(
            team, cursor=cursor_from(request.args, 2, types=teams.PEOPLE_KEY_TYPES)
        ),
        add_form=add_form or AddTeamMemberForm(formdata=None),
        rename_form=rename_form or RenameTeamForm(formdata=None, obj=team),
        can_manage=here.access.can(Perm.TEAMS_MANAGE),
        status=status,
    )


@bp.get("/<public_id>")
def team(public_id: str):
    require(Perm.MEMBERS_READ)
    return _team_page(teams.get_team(here.org, public_id))


@bp.post("/<public_id>/rename")
def rename(public_id: str):
    require(Perm.TEAMS_MANAGE)
    found = teams.get_team(here.org, public_id)
    form = RenameTeamForm()
    if form.validate():
        try:
            teams.rename_team(here.actor, here.tenant, here.org, found, name=form.name.data)
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash("Team renamed.", "success")
            return redirect(url_for("tenant.org.teams.team", public_id=public_id), code=303)
        db.session.rollback()
        found = teams.get_team(here.org, public_id)
    return _team_page(found, rename_form=form, status=422)


@bp.route("/<public_id>/delete", methods=["GET", "POST"])
def delete(public_id: str):
    require(Perm.TEAMS_MANAGE)
    found = teams.get_team(here.org, public_id)
    name = found.name
    if request.method == "GET":  # without JavaScript, Delete team asks on a page of its own
        return confirmation_page(
            title=f"Delete the team {name}?",
            question=f"Delete the team {name}?",
            consequence=f"Its members stay in {here.org.name}; only the team goes.",
            button="Delete team",
            cancel_url=url_for("tenant.org.teams.team", public_id=public_id),
        )
    teams.delete_team(here.actor, here.tenant, here.org, found)
    db.session.commit()
    flash(f"Team {name} deleted.", "success")
    return redirect(url_for("tenant.org.teams.index"), code=303)


@bp.post("/<public_id>/members")
def add_member(public_id: str):
    # Finding someone by address tells whether they are a member: for who may see that.
    require(Perm.MEMBERS_READ)
    require(Perm.TEAMS_MANAGE)
    found = teams.get_team(here.org, public_id)
    form = AddTeamMemberForm()
    if form.validate():
        try:
            person = teams.find_member_by_email(here.tenant, here.org, form.email.data)
            teams.add_to_team(here.actor, here.tenant, here.org, found, person)
        except (ValidationFailed, Conflict) as error:
            error.field_errors = {"email": error.message}
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"{person.display_name} added to {found.name}.", "success")
            return redirect(url_for("tenant.org.teams.team", public_id=public_id), code=303)
    return _team_page(found, add_form=form, status=422)


@bp.post("/<public_id>/members/<user_id>/remove")
def remove_member(public_id: str, user_id: str):
    require(Perm.TEAMS_MANAGE)
    found = teams.get_team(here.org, public_id)
    person = members.find_tenant_user(here.tenant, user_id)
    teams.remove_from_team(here.actor, here.tenant, here.org, found, person)
    db.session.commit()
    flash(f"{person.display_name} removed from {found.name}.", "success")
    return redirect(url_for("tenant.org.teams.team", public_id=public_id), code=303)
