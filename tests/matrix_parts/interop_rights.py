"""The member's data rights in the matrix: "My data", the download, withdrawing all sharing and deleting the
account are each member's own; staff reach none of them (403, as for every member-only page) and never download
a member's archive. Deleting is asked with a wrong password here, so the world stays whole."""

from __future__ import annotations

from django.urls import reverse

from tests.matrix_parts.common import MEMBERS, Route, only


def seed(w) -> None:
    """Nothing of its own: the archive is made of the data the matrix and its other parts already seed."""


def web_routes() -> dict:
    return {
        "interop:my_data": Route("get", lambda w: reverse("interop:my_data"), only(MEMBERS, otherwise=403)),
        "interop:download": Route("get", lambda w: reverse("interop:download"), only(MEMBERS, otherwise=403)),
        "interop:withdraw_consent": Route(
            "post", lambda w: reverse("interop:withdraw_consent"), only(MEMBERS, outcome="redirect", otherwise=403)
        ),
        "interop:delete_account": Route(
            "post",
            lambda w: reverse("interop:delete_account"),
            only(MEMBERS, outcome=400, otherwise=403),
            data={"password": "not the password", "confirm": "on"},
        ),
    }


def api_routes() -> dict:
    return {
        ("get", "/api/v1/me/export"): Route("get", "/api/v1/me/export", only(MEMBERS, otherwise=403, anonymous=401)),
    }
