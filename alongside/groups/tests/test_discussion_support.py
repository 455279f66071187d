"""Shared set-up for the discussion and moderation tests: a group with a facilitator, two members (one with a
care team), a community moderator, a member outside the group and an outsider from another organisation."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from alongside.accounts.models import Role
from alongside.groups import discussion, membership, profiles
from alongside.testing.factories import make_member, make_organisation, make_staff


@dataclass
class Space:
    organisation: object
    group: object
    facilitator: object
    author: object
    reader: object
    moderator: object
    non_member: object
    outsider: object


def accept(person, organisation, pseudonym: str):
    return profiles.save_profile(person, organisation, pseudonym=pseudonym, accept_guidelines=True)


def make_space() -> Space:
    organisation = make_organisation("Willow Recovery")
    facilitator = make_staff(organisation, Role.FACILITATOR, display_name="Fran Facilitator")
    author = make_member(organisation, display_name="Alma Realname")
    reader = make_member(organisation, display_name="Rory Realname")
    moderator = make_staff(organisation, Role.MODERATOR, display_name="Moe Moderator")
    non_member = make_member(organisation, display_name="Nadia Notinit")
    other = make_organisation("Elsewhere Clinic", country="GB", time_zone="Europe/London")
    outsider = make_staff(other, Role.MODERATOR, display_name="Otto Outsider")
    group = membership.create_group(
        by=facilitator, organisation=organisation, name="Tuesday Circle", purpose="Support in early recovery",
        access="open", format="online", video_url="https://video.example/tuesday",
    )  # fmt: skip
    membership.join(author, group)
    membership.join(reader, group)
    for person, name in ((author, "Quiet Heron"), (reader, "Bright Finch"), (facilitator, "Fran F"),
                         (moderator, "Moe M"), (non_member, "Lone Wolf")):  # fmt: skip
        accept(person, organisation, name)
    return Space(organisation, group, facilitator, author, reader, moderator, non_member, outsider)


def start(space: Space, *, title="Hard week", body="Struggled to sleep but went to the meeting.", by=None, group=True):
    return discussion.start_thread(
        by or space.author, space.organisation, space.group if group else None, title=title, body=body
    )


def thread_url(post) -> str:
    return reverse("groups:thread", args=[post.thread_id])
