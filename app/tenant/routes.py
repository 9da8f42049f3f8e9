from flask import g

from app.rendering import render
from app.tenant import bp


@bp.get("/")
def home():
    return render("tenant/home.html", tenant=g.tenant, user=g.user)
