"""CSV exports neutralise a formula anywhere a spreadsheet could start a cell (the trust
issue's item 13): not only at the start, but after a ; , tab, line break or pipe too."""

from __future__ import annotations

import csv
import io

import pytest

from app.extensions import db
from app.models import User
from app.services.members import safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        (";=cmd|' /C calc'!A0;", ";'=cmd|' /C calc'!A0;"),
        ("Lee, =HYPERLINK(1)", "Lee, '=HYPERLINK(1)"),
        ("x|+1", "x|'+1"),
        ("a\n-1", "a\n'-1"),
        ("Ann Lee", "Ann Lee"),
        ("plain;text", "plain;text"),
        ("e=mc2", "e=mc2"),
        ("", ""),
    ],
)
def test_a_formula_start_is_quoted_wherever_a_cell_could_begin(value, written):
    assert safe_cell(value) == written


def test_the_members_export_carries_a_crafted_name_as_text(app, client, auth, world):
    with app.app_context():
        milo = db.session.get(User, world.member.id)
        milo.name = ";=cmd|' /C calc'!A0;"
        db.session.commit()
    auth.login(world.owner)
    body = client.get("/t/acme/orgs/engineering/members.csv").get_data(as_text=True)
    names = [row[0] for row in csv.reader(io.StringIO(body))]
    assert ";'=cmd|' /C calc'!A0;" in names
    for separator in (",", ";", "\t", "|"):
        for line in body.splitlines():
            for cell in line.split(separator):
                assert not cell.strip().startswith(("=", "+", "@")), cell
