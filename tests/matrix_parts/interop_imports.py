"""Imports in the matrix: `/me/import/` is a member's own page (each member imports into their own history);
staff have no import page. What a member's import shows is tested in `alongside/interop/tests`."""

from __future__ import annotations

from django.urls import reverse

from tests.matrix_parts.common import MEMBERS, Route, only


def seed(w) -> None:
    pass


def web_routes() -> dict:
    return {"interop:import": Route("get", lambda w: reverse("interop:import"), only(MEMBERS, otherwise=403))}


def api_routes() -> dict:
    return {}
