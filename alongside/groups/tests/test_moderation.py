"""Reports, the moderators' queue and their actions, and words of crisis in a post."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.audit.models import AuditEvent
from alongside.care import actions as care_actions
from alongside.care import safety
from alongside.care.models import Category, SafetyEvent, SafetyKind
from alongside.groups import discussion, membership, moderation
from alongside.groups.models import Post, Report, ReportStatus, Thread
from alongside.groups.tests.test_discussion_support import make_space, start, thread_url
from alongside.notify.models import Notification, NotificationKind
from alongside.testing.factories import make_staff, signed_in_client, support

pytestmark = pytest.mark.django_db
CRISIS_TEXT = "I can't go on like this, I want to end it all"


def _team(s):
    """The author's supporters: a case manager who sees group activity and gets safety alerts, and a clinician
    who gets safety alerts but does not see group activity."""
    sees_groups = support(make_staff(s.organisation, Role.CASE_MANAGER, display_name="Casey Groups"), s.author,
                          s.organisation, Role.CASE_MANAGER)  # fmt: skip
    care_actions.set_sharing(member=s.author, relationship=sees_groups,
                             categories=[Category.ENGAGEMENT, Category.GROUPS], safety_alerts=True)  # fmt: skip
    no_groups = support(make_staff(s.organisation, Role.CLINICIAN, display_name="Cleo Nogroups"), s.author,
                        s.organisation, Role.CLINICIAN)  # fmt: skip
    care_actions.set_sharing(member=s.author, relationship=no_groups,
                             categories=[Category.ENGAGEMENT, Category.CHECKINS], safety_alerts=True)  # fmt: skip
    return sees_groups.staff, no_groups.staff


def test_crisis_words_store_the_post_show_the_crisis_screen_and_reach_the_right_people(
    django_capture_on_commit_callbacks,
):
    s = make_space()
    with_groups, without_groups = _team(s)
    post = start(s)
    client = signed_in_client(s.author)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(thread_url(post), {"body": CRISIS_TEXT, "key": "c1"})
    assert answer.status_code == 302 and answer["Location"] == reverse("web:crisis")
    stored = Post.objects.get(client_key="c1")
    assert stored.crisis and not stored.is_hidden
    event = SafetyEvent.objects.get(member=s.author)
    assert event.kind == SafetyKind.CRISIS_LANGUAGE_POST
    assert CRISIS_TEXT not in event.source
    assert event in safety.events_visible_to(with_groups, s.author)
    assert event not in safety.events_visible_to(without_groups, s.author)
    assert Notification.objects.filter(recipient=with_groups, kind=NotificationKind.SAFETY_ALERT).exists()
    assert not Notification.objects.filter(recipient=without_groups, kind=NotificationKind.SAFETY_ALERT).exists()
    report = Report.objects.get(post=stored)
    assert report.urgent and report.reason == "crisis_language" and report.reporter is None
    told = Notification.objects.filter(
        kind=NotificationKind.MODERATION, source_key__startswith=f"group-report:{report.pk}:"
    )
    assert {n.recipient for n in told} == {s.moderator, s.facilitator}
    assert all(n.urgent for n in told)
    assert all("end it all" not in n.title for n in told)
    # Other readers are not told about the words, and the queue puts it first.
    assert not Notification.objects.filter(recipient=s.reader, kind=NotificationKind.MODERATION).exists()
    older = start(s, by=s.reader, title="Older", body="An older post")
    older_report = moderation.report(s.author, older, reason="spam")
    Report.objects.filter(pk=older_report.pk).update(created_at=report.created_at.replace(year=2020))
    assert list(moderation.queue(s.moderator)) == [report, older_report]


def test_crisis_words_in_a_new_thread_title_count_too():
    s = make_space()
    post = start(s, title="Thinking about suicide", body="Not sure where to turn.")
    assert post.crisis
    assert SafetyEvent.objects.filter(member=s.author, kind=SafetyKind.CRISIS_LANGUAGE_POST).count() == 1


def test_crisis_words_through_the_api_say_so():
    s = make_space()
    answer = signed_in_client(s.author).post(
        f"/api/v1/groups/{s.group.pk}/threads", json.dumps({"title": "Tonight", "body": CRISIS_TEXT}),
        content_type="application/json", headers={"Idempotency-Key": "crisis-api"},
    )  # fmt: skip
    assert answer.status_code == 201
    assert answer.json()["crisis"] is True and answer.json()["crisis_url"] == reverse("web:crisis")
    assert SafetyEvent.objects.filter(member=s.author).count() == 1


def test_the_safety_event_survives_a_post_that_fails_to_store(monkeypatch):
    s = make_space()
    post = start(s)

    def broken(post):
        raise RuntimeError("the queue is unavailable")

    monkeypatch.setattr(moderation, "report_crisis", broken)
    with pytest.raises(RuntimeError):
        discussion.reply(s.author, post.thread, body=CRISIS_TEXT)
    assert post.thread.posts.count() == 1
    event = SafetyEvent.objects.get(member=s.author)
    assert event.kind == SafetyKind.CRISIS_LANGUAGE_POST


def test_the_api_keeps_the_safety_event_when_the_request_fails(monkeypatch):
    s = make_space()
    post = start(s)

    def broken(post):
        raise RuntimeError("the queue is unavailable")

    monkeypatch.setattr(moderation, "report_crisis", broken)
    client = signed_in_client(s.author)
    client.raise_request_exception = False
    answer = client.post(
        f"/api/v1/threads/{post.thread_id}/posts", json.dumps({"body": CRISIS_TEXT}),
        content_type="application/json", headers={"Idempotency-Key": "broken-1"},
    )  # fmt: skip
    assert answer.status_code == 500
    assert post.thread.posts.count() == 1
    assert SafetyEvent.objects.filter(member=s.author, kind=SafetyKind.CRISIS_LANGUAGE_POST).count() == 1


def test_a_muted_member_writing_crisis_words_still_sees_the_crisis_screen():
    s = make_space()
    post = start(s)
    membership.mute(s.group.memberships.get(person=s.author), by=s.facilitator, days=1, reason="Cooling off")
    answer = signed_in_client(s.author).post(thread_url(post), {"body": CRISIS_TEXT, "key": "mc"})
    assert answer.status_code == 302 and answer["Location"] == reverse("web:crisis")
    assert post.thread.posts.count() == 1
    assert SafetyEvent.objects.filter(member=s.author, kind=SafetyKind.CRISIS_LANGUAGE_POST).count() == 1


def test_report_hide_and_readers_see_the_placeholder():
    s = make_space()
    post = start(s, body="Something cruel 4410")
    client = signed_in_client(s.reader)
    form = client.get(reverse("groups:report_post", args=[post.pk]))
    assert form.status_code == 200 and "crisis_language" not in form.content.decode()
    answer = client.post(reverse("groups:report_post", args=[post.pk]), {"reason": "harassment", "note": "Unkind"},
                         follow=True)  # fmt: skip
    assert "Thank you for telling us" in answer.content.decode()
    report = Report.objects.get(post=post, reporter=s.reader)
    assert not report.urgent
    again = client.post(reverse("groups:report_post", args=[post.pk]), {"reason": "spam"})
    assert again.status_code == 400 and Report.objects.filter(post=post).count() == 1
    assert Notification.objects.filter(recipient=s.moderator, kind=NotificationKind.MODERATION).exists()
    queue = signed_in_client(s.moderator).get(reverse("groups:moderation")).content.decode()
    assert "Something cruel 4410" in queue and "Quiet Heron" in queue and "Alma Realname" not in queue
    hide = signed_in_client(s.moderator).post(
        reverse("groups:hide_post", args=[post.pk]), {"reason": "Unkind words", "next": reverse("groups:moderation")}
    )
    assert hide.status_code == 302 and hide["Location"] == reverse("groups:moderation")
    report.refresh_from_db()
    assert report.status == ReportStatus.HIDDEN and report.resolved_by == s.moderator
    page = client.get(thread_url(post)).content.decode()
    assert "Hidden by a moderator" in page and "4410" not in page
    audit = AuditEvent.objects.get(detail__startswith=f"hid post {post.pk}")
    assert audit.actor == s.moderator and audit.member == s.author and audit.category == "groups"
    assert Notification.objects.filter(
        recipient=s.author, source_key__startswith=f"group-post-hidden:{post.pk}"
    ).exists()
    assert "4410" not in signed_in_client(s.moderator).get(reverse("groups:moderation")).content.decode()


def test_reports_are_for_readers_only_and_never_of_ones_own_post():
    s = make_space()
    post = start(s)
    assert (
        signed_in_client(s.non_member)
        .post(reverse("groups:report_post", args=[post.pk]), {"reason": "spam"})
        .status_code
        == 404
    )
    with pytest.raises(ValidationError):
        moderation.report(s.author, post, reason="spam")
    with pytest.raises(ValidationError):
        moderation.report(s.reader, post, reason="crisis_language")
    api = signed_in_client(s.reader).post(
        f"/api/v1/posts/{post.pk}/reports", json.dumps({"reason": "worried", "note": "They seem low"}),
        content_type="application/json", headers={"Idempotency-Key": "rep-1"},
    )  # fmt: skip
    assert api.status_code == 201 and api.json()["urgent"] is True


def test_keep_closes_reports_and_the_post_stays():
    s = make_space()
    post = start(s)
    moderation.report(s.reader, post, reason="other", note="Not sure")
    answer = signed_in_client(s.facilitator).post(reverse("groups:keep_post", args=[post.pk]), {})
    assert answer.status_code == 302
    assert Report.objects.get(post=post).status == ReportStatus.KEPT
    post.refresh_from_db()
    assert not post.is_hidden
    assert AuditEvent.objects.filter(detail__startswith=f"kept post {post.pk}", member=s.author).exists()


def test_only_the_spaces_moderators_act_and_see_the_queue():
    s = make_space()
    post = start(s)
    moderation.report(s.reader, post, reason="spam")
    other_facilitator = make_staff(s.organisation, Role.FACILITATOR)
    membership.create_group(
        by=other_facilitator, organisation=s.organisation, name="Other group", purpose="x", format="online",
        video_url="https://video.example/o",
    )  # fmt: skip
    # A facilitator of another group moderates the community space, not this group.
    assert signed_in_client(other_facilitator).get(reverse("groups:moderation")).status_code == 200
    assert list(moderation.queue(other_facilitator)) == []
    for person in (s.reader, other_facilitator, s.outsider):
        client = signed_in_client(person)
        assert client.post(reverse("groups:hide_post", args=[post.pk]), {"reason": "x"}).status_code == 404
        assert client.post(reverse("groups:lock_thread", args=[post.thread_id]), {"reason": "x"}).status_code == 404
    assert signed_in_client(s.reader).get(reverse("groups:moderation")).status_code == 403
    post.refresh_from_db()
    assert not post.is_hidden
    assert list(moderation.queue(s.outsider)) == []
    assert len(moderation.queue(s.facilitator)) == 1 and len(moderation.queue(s.moderator)) == 1


def test_community_space_is_moderated_by_moderators_and_facilitators():
    s = make_space()
    post = start(s, group=False)
    moderation.report(s.reader, post, reason="spam")
    assert len(moderation.queue(s.facilitator)) == 1 and len(moderation.queue(s.moderator)) == 1
    assert list(moderation.queue(s.non_member)) == []


def test_lock_and_unlock_from_the_page_need_a_reason_and_are_audited():
    s = make_space()
    post = start(s)
    client = signed_in_client(s.moderator)
    assert client.post(reverse("groups:lock_thread", args=[post.thread_id]), {"reason": ""}).status_code == 302
    assert not Thread.objects.get(pk=post.thread_id).is_locked
    client.post(reverse("groups:lock_thread", args=[post.thread_id]), {"reason": "Cooling off"})
    assert Thread.objects.get(pk=post.thread_id).lock_reason == "Cooling off"
    client.post(reverse("groups:unlock_thread", args=[post.thread_id]))
    assert not Thread.objects.get(pk=post.thread_id).is_locked
    details = list(AuditEvent.objects.filter(member=s.author, category="groups").values_list("detail", flat=True))
    assert f"locked thread {post.thread_id}: Cooling off" in details and f"unlocked thread {post.thread_id}" in details
