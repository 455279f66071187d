"""Threads, replies and reactions: who reads and posts where, how authors appear, and what stops a post."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from alongside.accounts.actions import grant_role
from alongside.accounts.models import Role
from alongside.groups import access, discussion, membership, moderation, profiles
from alongside.groups.models import Post, Reaction, Thread
from alongside.groups.tests.test_discussion_support import accept, make_space, start, thread_url
from alongside.notify.models import Notification, NotificationKind
from alongside.testing.factories import make_member, make_organisation, make_staff, signed_in_client

pytestmark = pytest.mark.django_db
SECRET = "The secret of the Tuesday Circle 4417"


def test_members_read_their_groups_threads_and_nobody_else_does():
    s = make_space()
    post = start(s, body=SECRET)
    for person in (s.author, s.reader, s.facilitator, s.moderator):
        client = signed_in_client(person)
        assert SECRET in client.get(thread_url(post)).content.decode()
        assert post.thread.title in client.get(reverse("groups:threads", args=[s.group.pk])).content.decode()
    for person in (s.non_member, s.outsider):
        client = signed_in_client(person)
        assert client.get(thread_url(post)).status_code == 404
        assert client.get(reverse("groups:threads", args=[s.group.pk])).status_code == 404
        assert client.get(f"/api/v1/threads/{post.thread_id}/posts").status_code == 404
        assert client.get(f"/api/v1/groups/{s.group.pk}/threads").status_code == 404
        assert client.get(reverse("groups:report_post", args=[post.pk])).status_code == 404


def test_the_community_space_is_for_the_organisation_only():
    s = make_space()
    post = start(s, body=SECRET, group=False)
    answer = signed_in_client(s.non_member).get(reverse("groups:community"))
    assert post.thread.title in answer.content.decode()
    assert SECRET in signed_in_client(s.non_member).get(thread_url(post)).content.decode()
    outsider = signed_in_client(s.outsider)
    assert outsider.get(thread_url(post)).status_code == 404
    assert post.thread.title not in outsider.get(reverse("groups:community")).content.decode()
    assert outsider.get(reverse("groups:community") + f"?org={s.organisation.slug}").status_code == 404
    listed = signed_in_client(s.reader).get("/api/v1/community/threads").json()
    assert [row["id"] for row in listed] == [post.thread_id]
    assert outsider.get("/api/v1/community/threads").json() == []


def test_someone_in_two_organisations_chooses_a_community():
    s = make_space()
    start(s, group=False, title="Willow thread")
    other = access.organisations_of(s.outsider).get()
    grant_role(s.reader, other, Role.MEMBER)
    client = signed_in_client(s.reader)
    chooser = client.get(reverse("groups:community")).content.decode()
    assert "Willow thread" not in chooser and other.name in chooser
    chosen = client.get(reverse("groups:community") + f"?org={s.organisation.slug}").content.decode()
    assert "Willow thread" in chosen
    assert client.get("/api/v1/community/threads").status_code == 400


def test_members_appear_under_their_pseudonym_and_staff_under_name_and_role():
    s = make_space()
    post = start(s)
    discussion.reply(s.facilitator, post.thread, body="Thank you for coming.")
    page = signed_in_client(s.reader).get(thread_url(post)).content.decode()
    assert "Quiet Heron" in page
    assert "Alma Realname" not in page
    assert "Fran Facilitator (Group facilitator)" in page
    posts = signed_in_client(s.reader).get(f"/api/v1/threads/{post.thread_id}/posts").json()
    assert [p["author"] for p in posts] == ["Quiet Heron", "Fran Facilitator (Group facilitator)"]
    listing = signed_in_client(s.moderator).get(reverse("groups:threads", args=[s.group.pk])).content.decode()
    assert "Quiet Heron" in listing and "Alma Realname" not in listing


def test_new_thread_from_the_page():
    s = make_space()
    client = signed_in_client(s.author)
    answer = client.post(
        reverse("groups:new_group_thread", args=[s.group.pk]),
        {"title": "Small wins", "body": "I <b>cooked</b> today <script>x()</script>", "key": "k1"},
    )
    thread = Thread.objects.get(title="Small wins")
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("groups:thread", args=[thread.pk]))
    assert thread.group == s.group
    assert thread.posts.get().body_html == "<p>I <b>cooked</b> today </p>"
    # The same form sent again (a double click) stores nothing twice.
    client.post(
        reverse("groups:new_group_thread", args=[s.group.pk]), {"title": "Small wins", "body": "x", "key": "k1"}
    )
    assert Thread.objects.filter(title="Small wins").count() == 1


def test_an_empty_title_keeps_the_text():
    s = make_space()
    answer = signed_in_client(s.author).post(
        reverse("groups:new_group_thread", args=[s.group.pk]), {"title": " ", "body": "Kept words 9931"}
    )
    assert answer.status_code == 400
    assert "Kept words 9931" in answer.content.decode()
    assert not Thread.objects.exists()


def test_posting_without_guidelines_goes_to_the_profile_and_back():
    s = make_space()
    newcomer = make_member(s.organisation, display_name="Nell Newcomer")
    membership.join(newcomer, s.group)
    client = signed_in_client(newcomer)
    new_url = reverse("groups:new_group_thread", args=[s.group.pk])
    answer = client.get(new_url)
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("groups:community_profile"))
    profile_url = answer["Location"]
    page = client.get(profile_url).content.decode()
    assert "Community guidelines" in page and reverse("web:crisis") in page
    refused = client.post(profile_url, {"pseudonym": "Nell Newcomer", "accept_guidelines": "on", "next": new_url})
    assert refused.status_code == 400  # their own name gives them away
    done = client.post(profile_url, {"pseudonym": "Calm River", "accept_guidelines": "on", "next": new_url})
    assert done.status_code == 302 and done["Location"] == new_url
    assert client.get(new_url).status_code == 200
    # A link elsewhere is not followed.
    away = client.post(
        profile_url, {"pseudonym": "Calm River", "accept_guidelines": "on", "next": "https://evil.example/"}
    )
    assert away["Location"].startswith(reverse("groups:community"))


def test_api_posting_without_guidelines_is_refused_with_the_reason():
    s = make_space()
    newcomer = make_member(s.organisation)
    membership.join(newcomer, s.group)
    answer = signed_in_client(newcomer).post(
        f"/api/v1/groups/{s.group.pk}/threads", json.dumps({"title": "Hi", "body": "Hello"}),
        content_type="application/json", headers={"Idempotency-Key": "g1"},
    )  # fmt: skip
    assert answer.status_code == 403
    assert answer.json()["fields"] == ["guidelines"]


def test_flooding_is_limited_and_the_text_kept():
    s = make_space()
    post = start(s)
    client = signed_in_client(s.reader)
    for number in range(discussion.POSTS_PER_MINUTE - 0):
        answer = client.post(thread_url(post), {"body": f"reply {number}", "key": f"r{number}"})
        assert answer.status_code == 302, number
    refused = client.post(thread_url(post), {"body": "One more thought 5521", "key": "r-last"})
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "One more thought 5521" in page and "posting very quickly" in page
    assert not Post.objects.filter(body_html__contains="One more thought").exists()
    api = client.post(
        f"/api/v1/threads/{post.thread_id}/posts", json.dumps({"body": "and again"}),
        content_type="application/json", headers={"Idempotency-Key": "flood-1"},
    )  # fmt: skip
    assert api.status_code == 429


def test_a_muted_member_is_told_why_and_gets_their_text_back():
    s = make_space()
    post = start(s)
    reader_membership = s.group.memberships.get(person=s.reader)
    membership.mute(reader_membership, by=s.facilitator, days=3, reason="Please cool off after the argument")
    client = signed_in_client(s.reader)
    page = client.get(thread_url(post)).content.decode()
    assert "Please cool off after the argument" in page
    answer = client.post(thread_url(post), {"body": "My unsent words 7713", "key": "m1"})
    assert answer.status_code == 403
    assert "My unsent words 7713" in answer.content.decode()
    assert "paused your posting" in answer.content.decode()
    api = client.post(
        f"/api/v1/threads/{post.thread_id}/posts", json.dumps({"body": "again"}),
        content_type="application/json", headers={"Idempotency-Key": "mute-1"},
    )  # fmt: skip
    assert api.status_code == 403
    assert "Please cool off" in api.json()["detail"]
    assert post.thread.posts.count() == 1
    # They still read, and react.
    assert client.post(reverse("groups:react", args=[post.pk]), {"kind": "me_too"}).status_code == 302


def test_a_locked_thread_takes_no_replies():
    s = make_space()
    post = start(s)
    moderation.lock_thread(post.thread, by=s.moderator, reason="Going in circles")
    client = signed_in_client(s.reader)
    page = client.get(thread_url(post)).content.decode()
    assert "Going in circles" in page and 'name="body"' not in page
    answer = client.post(thread_url(post), {"body": "Late reply 3301", "key": "l1"})
    assert answer.status_code == 409 and "Late reply 3301" in answer.content.decode()
    api = client.post(
        f"/api/v1/threads/{post.thread_id}/posts", json.dumps({"body": "late"}),
        content_type="application/json", headers={"Idempotency-Key": "lock-1"},
    )  # fmt: skip
    assert api.status_code == 409
    moderation.unlock_thread(post.thread, by=s.moderator)
    post.thread.refresh_from_db()
    assert discussion.reply(s.reader, post.thread, body="Now it works").pk


def test_people_who_left_or_were_removed_can_neither_read_nor_post():
    s = make_space()
    post = start(s)
    membership.leave(s.reader, s.group)
    membership.remove(s.group.memberships.get(person=s.author), by=s.facilitator, reason="Repeated harassment")
    for person in (s.reader, s.author):
        client = signed_in_client(person)
        assert client.get(thread_url(post)).status_code == 404
        assert client.post(thread_url(post), {"body": "still here?"}).status_code == 404
        api = client.post(
            f"/api/v1/threads/{post.thread_id}/posts", json.dumps({"body": "x"}),
            content_type="application/json", headers={"Idempotency-Key": f"gone-{person.pk}"},
        )  # fmt: skip
        assert api.status_code == 404
    assert post.thread.posts.count() == 1


def test_replies_notify_the_thread_author_and_earlier_repliers_only():
    s = make_space()
    post = start(s)
    third = make_member(s.organisation)
    membership.join(third, s.group)
    accept(third, s.organisation, "Third Voice")
    discussion.reply(s.reader, post.thread, body="Me too.")
    discussion.reply(third, post.thread, body="Same here.")
    membership.leave(s.reader, s.group)
    last = discussion.reply(s.author, post.thread, body="Thanks both, private detail 8812.")
    told = Notification.objects.filter(
        kind=NotificationKind.GROUP_ACTIVITY, source_key__startswith=f"group-reply:{last.pk}:"
    )
    assert {n.recipient for n in told} == {third}
    only = told.get()
    assert only.title == "New reply in Hard week"
    assert "8812" not in only.title + only.body
    assert only.link.endswith(f"#post-{last.pk}")
    first_reply = Notification.objects.filter(source_key__startswith="group-reply:").exclude(pk=only.pk)
    assert {n.recipient for n in first_reply} == {s.author, s.reader}


def test_reactions_toggle_count_and_skip_hidden_posts():
    s = make_space()
    post = start(s)
    client = signed_in_client(s.reader)
    url = reverse("groups:react", args=[post.pk])
    partial = client.post(url, {"kind": "strength"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    body = partial.content.decode()
    assert 'aria-pressed="true"' in body and "<html" not in body
    assert Reaction.objects.filter(post=post, person=s.reader, kind="strength").exists()
    assert client.post(url, {"kind": "strength"}).status_code == 302  # no-JS: back to the thread
    assert not Reaction.objects.filter(post=post).exists()
    api = signed_in_client(s.author).post(
        f"/api/v1/posts/{post.pk}/reactions", json.dumps({"kind": "thank_you"}), content_type="application/json"
    )
    assert api.json()["reactions"] == {"thank_you": 1}
    again = signed_in_client(s.author).post(
        f"/api/v1/posts/{post.pk}/reactions", json.dumps({"kind": "thank_you"}), content_type="application/json"
    )
    assert again.json()["reactions"] == {"thank_you": 1}
    assert (
        "Choose one of the reactions"
        in client.post(url, {"kind": "x"}, headers={"HX-Request": "true"}).content.decode()
    )
    assert signed_in_client(s.non_member).post(url, {"kind": "me_too"}).status_code == 404
    moderation.hide_post(post, by=s.moderator, reason="Off topic")
    refused = client.post(url, {"kind": "me_too"}, headers={"HX-Request": "true"})
    assert "hid this post" in refused.content.decode()
    assert not Reaction.objects.filter(post=post, kind="me_too").exists()


def test_api_reply_is_stored_once_per_idempotency_key():
    s = make_space()
    post = start(s)
    client = signed_in_client(s.reader)

    def send(body):
        return client.post(
            f"/api/v1/threads/{post.thread_id}/posts", json.dumps({"body": body}),
            content_type="application/json", headers={"Idempotency-Key": "same-key"},
        )  # fmt: skip

    first, second = send("Hello <i>all</i>"), send("Hello <i>all</i>")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["body_html"] == "<p>Hello <i>all</i></p>" and first.json()["author"] == "Bright Finch"
    assert Post.objects.filter(author=s.reader).get().client_key == "same-key"
    assert send("Something else").status_code == 409
    missing = client.post(f"/api/v1/threads/{post.thread_id}/posts", json.dumps({"body": "x"}),
                          content_type="application/json")  # fmt: skip
    assert missing.status_code == 400 and missing.json()["fields"] == ["Idempotency-Key"]
    empty = client.post(
        f"/api/v1/threads/{post.thread_id}/posts", json.dumps({"body": "  "}),
        content_type="application/json", headers={"Idempotency-Key": "empty"},
    )  # fmt: skip
    assert empty.status_code == 422 and empty.json()["fields"] == ["body"]


def test_api_new_threads_in_a_group_and_the_community():
    s = make_space()
    client = signed_in_client(s.author)
    made = client.post(
        f"/api/v1/groups/{s.group.pk}/threads", json.dumps({"title": "From the app", "body": "Hello"}),
        content_type="application/json", headers={"Idempotency-Key": "t1"},
    )  # fmt: skip
    assert made.status_code == 201
    assert Thread.objects.get(pk=made.json()["thread_id"]).group == s.group
    community = client.post(
        "/api/v1/community/threads", json.dumps({"title": "Everyone", "body": "Hi all"}),
        content_type="application/json", headers={"Idempotency-Key": "t2"},
    )  # fmt: skip
    assert community.status_code == 201
    assert Thread.objects.get(pk=community.json()["thread_id"]).group is None
    no_title = client.post(
        f"/api/v1/groups/{s.group.pk}/threads", json.dumps({"title": "", "body": "Hello"}),
        content_type="application/json", headers={"Idempotency-Key": "t3"},
    )  # fmt: skip
    assert no_title.status_code == 422 and no_title.json()["fields"] == ["title"]
    outsider = signed_in_client(s.non_member).post(
        f"/api/v1/groups/{s.group.pk}/threads", json.dumps({"title": "x", "body": "y"}),
        content_type="application/json", headers={"Idempotency-Key": "t4"},
    )  # fmt: skip
    assert outsider.status_code == 404


def test_hidden_posts_show_a_placeholder_to_readers_and_the_text_to_author_and_moderators():
    s = make_space()
    post = start(s, body="Words someone found hurtful 6621")
    moderation.report(s.reader, post, reason="harassment")
    moderation.hide_post(post, by=s.moderator, reason="Unkind to another member")
    reader_page = signed_in_client(s.reader).get(thread_url(post)).content.decode()
    assert "Hidden by a moderator" in reader_page and "6621" not in reader_page
    reader_api = signed_in_client(s.reader).get(f"/api/v1/threads/{post.thread_id}/posts").json()[0]
    assert reader_api["hidden"] and reader_api["body_html"] == "" and "6621" not in json.dumps(reader_api)
    for person in (s.author, s.moderator, s.facilitator):
        page = signed_in_client(person).get(thread_url(post)).content.decode()
        assert "Hidden by a moderator" in page and "6621" in page and "Unkind to another member" in page
    moderation.restore_post(post, by=s.facilitator)
    assert "6621" in signed_in_client(s.reader).get(thread_url(post)).content.decode()


def test_staff_of_the_organisation_without_a_group_place_read_only_the_community():
    s = make_space()
    clinician = make_staff(s.organisation, Role.CLINICIAN)
    group_post = start(s)
    community_post = start(s, group=False, title="For all")
    client = signed_in_client(clinician)
    assert client.get(thread_url(group_post)).status_code == 404
    assert client.get(thread_url(community_post)).status_code == 200


def test_times_show_on_the_viewers_clock():
    s = make_space()
    post = start(s)
    Post.objects.filter(pk=post.pk).update(created_at=datetime(2026, 1, 5, 23, 30, tzinfo=UTC))
    # The reader's clock is New York's: 18:30 the same day.
    page = signed_in_client(s.reader).get(thread_url(post)).content.decode()
    assert "5 Jan 2026, 18:30" in page


def test_titles_and_reasons_are_escaped_on_the_page():
    s = make_space()
    post = start(s, title="<script>alert(1)</script> & more")
    moderation.lock_thread(post.thread, by=s.moderator, reason="<img src=x onerror=y>")
    page = signed_in_client(s.reader).get(thread_url(post)).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<img src=x" not in page


def test_staff_accept_the_guidelines_without_choosing_a_pseudonym():
    organisation = make_organisation("Birch House")
    facilitator = make_staff(organisation, Role.FACILITATOR, display_name="Bea Facilitator")
    member = make_member(organisation, display_name="Mo Member")
    client = signed_in_client(facilitator)
    form = client.get(reverse("groups:community_profile")).content.decode()
    assert 'name="pseudonym"' not in form
    answer = client.post(reverse("groups:community_profile"), {"accept_guidelines": "on"})
    assert answer.status_code == 302
    assert profiles.has_accepted_guidelines(facilitator, organisation)
    # Members still choose one, and an empty one is refused by name.
    refused = signed_in_client(member).post(reverse("groups:community_profile"), {"accept_guidelines": "on"})
    assert refused.status_code == 400 and "pseudonym" in refused.context["form"].errors
    assert not profiles.has_accepted_guidelines(member, organisation)
