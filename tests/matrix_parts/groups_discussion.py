"""Discussion in the matrix: a thread in the member's group (its title and words are inside knowledge, for the
group's members and facilitator and the community moderator), reported by the facilitator, and a thread in the
organisation's community space (for everyone in the organisation). The member and the other member have chosen
pseudonyms and accepted the guidelines; staff have not, so their posts are sent to the profile page first."""

from __future__ import annotations

from django.urls import reverse

from alongside.groups import discussion, moderation, profiles
from tests.matrix_parts.common import Route, expect, only
from tests.matrix_parts.groups_core import GROUP_INSIDERS, ORGANISATION

GROUP_THREAD_TITLE = "Matrix thread about the Tuesday relapse 6604"
GROUP_POST_TEXT = "Matrix group post: my sister found out about the relapse 6604"
COMMUNITY_POST_TEXT = "Matrix community post: first month without a drink 7715"
# Moderators of the member's group: its facilitator and the organisation's community moderator.
GROUP_MODERATORS = {"facilitator", "moderator"}


def seed(w) -> None:
    p = w.people
    profiles.save_profile(p["member"], w.organisation, pseudonym="Matrix Heron", accept_guidelines=True)
    profiles.save_profile(p["other_member"], w.organisation, pseudonym="Matrix Finch", accept_guidelines=True)
    post = discussion.start_thread(
        p["member"], w.organisation, w.extra["group"], title=GROUP_THREAD_TITLE, body=GROUP_POST_TEXT
    )
    moderation.report(p["facilitator"], post, reason="privacy", note="Names a relative")
    community = discussion.start_thread(
        p["other_member"], w.organisation, None, title="Matrix community thread", body=COMMUNITY_POST_TEXT
    )
    w.extra["group_post"] = post
    w.extra["community_post"] = community
    secrets = w.extra.setdefault("secrets", {})
    secrets[GROUP_THREAD_TITLE] = GROUP_INSIDERS
    secrets[GROUP_POST_TEXT] = GROUP_INSIDERS
    secrets[COMMUNITY_POST_TEXT] = ORGANISATION


def _post(w):
    return w.extra["group_post"]


def web_routes() -> dict:
    moderated = only(GROUP_MODERATORS, outcome="redirect")
    return {
        "groups:threads": Route(
            "get", lambda w: reverse("groups:threads", args=[w.extra["group"].pk]), only(GROUP_INSIDERS)
        ),
        # Insiders who have not accepted the guidelines are sent to the profile page first.
        "groups:new_group_thread": Route(
            "get",
            lambda w: reverse("groups:new_group_thread", args=[w.extra["group"].pk]),
            only(GROUP_INSIDERS) | {"facilitator": "redirect", "moderator": "redirect"},
        ),
        # Everyone signed in has a community: their own organisation's.
        "groups:community": Route("get", lambda w: reverse("groups:community"), expect(200, anonymous="login")),
        "groups:new_community_thread": Route(
            "get",
            lambda w: reverse("groups:new_community_thread"),
            expect("redirect", member=200, other_member=200, anonymous="login"),
        ),
        "groups:community_profile": Route(
            "get", lambda w: reverse("groups:community_profile"), expect(200, anonymous="login")
        ),
        "groups:thread": Route(
            "get", lambda w: reverse("groups:thread", args=[_post(w).thread_id]), only(GROUP_INSIDERS)
        ),
        "groups:lock_thread": Route(
            "post", lambda w: reverse("groups:lock_thread", args=[_post(w).thread_id]), moderated, data={"reason": "x"}
        ),
        # Not locked: the moderator is told so and sent back.
        "groups:unlock_thread": Route(
            "post", lambda w: reverse("groups:unlock_thread", args=[_post(w).thread_id]), moderated
        ),
        "groups:react": Route(
            "post",
            lambda w: reverse("groups:react", args=[_post(w).pk]),
            only(GROUP_INSIDERS, outcome="redirect"),
            data={"kind": "me_too"},
        ),
        "groups:report_post": Route(
            "get", lambda w: reverse("groups:report_post", args=[_post(w).pk]), only(GROUP_INSIDERS)
        ),
        "groups:hide_post": Route(
            "post", lambda w: reverse("groups:hide_post", args=[_post(w).pk]), moderated, data={"reason": "x"}
        ),
        "groups:restore_post": Route("post", lambda w: reverse("groups:restore_post", args=[_post(w).pk]), moderated),
        "groups:keep_post": Route("post", lambda w: reverse("groups:keep_post", args=[_post(w).pk]), moderated),
        # Community moderators and group facilitators have a queue (perhaps empty); nobody else does.
        "groups:moderation": Route(
            "get", lambda w: reverse("groups:moderation"), only(GROUP_MODERATORS, otherwise=403)
        ),
    }


def api_routes() -> dict:
    def thread_url(w):
        return f"/api/v1/threads/{_post(w).thread_id}/posts"

    # Insiders without accepted guidelines are refused (403) with the reason.
    posting = only(GROUP_INSIDERS, outcome=403, anonymous=401) | {"member": 201}
    return {
        ("get", "/api/v1/groups/{group_id}/threads"): Route(
            "get", lambda w: f"/api/v1/groups/{w.extra['group'].pk}/threads", only(GROUP_INSIDERS, anonymous=401)
        ),
        ("get", "/api/v1/community/threads"): Route("get", "/api/v1/community/threads", expect(200, anonymous=401)),
        ("get", "/api/v1/threads/{thread_id}/posts"): Route("get", thread_url, only(GROUP_INSIDERS, anonymous=401)),
        ("post", "/api/v1/threads/{thread_id}/posts"): Route(
            "post", thread_url, posting, data={"body": "A matrix reply"}, headers={"Idempotency-Key": "matrix-reply-1"}
        ),
        ("post", "/api/v1/groups/{group_id}/threads"): Route(
            "post",
            lambda w: f"/api/v1/groups/{w.extra['group'].pk}/threads",
            posting,
            data={"title": "A matrix thread", "body": "Hello"},
            headers={"Idempotency-Key": "matrix-thread-1"},
        ),
        ("post", "/api/v1/community/threads"): Route(
            "post",
            "/api/v1/community/threads",
            expect(403, member=201, other_member=201, anonymous=401),
            data={"title": "A matrix community thread", "body": "Hello all"},
            headers={"Idempotency-Key": "matrix-community-1"},
        ),
        # The member wrote the post and the facilitator reported it already: both are refused with the reason.
        ("post", "/api/v1/posts/{post_id}/reports"): Route(
            "post",
            lambda w: f"/api/v1/posts/{_post(w).pk}/reports",
            only(GROUP_INSIDERS, outcome=201, anonymous=401) | {"member": 422, "facilitator": 422},
            data={"reason": "spam"},
            headers={"Idempotency-Key": "matrix-report-1"},
        ),
        ("post", "/api/v1/posts/{post_id}/reactions"): Route(
            "post",
            lambda w: f"/api/v1/posts/{_post(w).pk}/reactions",
            only(GROUP_INSIDERS, anonymous=401),
            data={"kind": "me_too"},
        ),
    }
