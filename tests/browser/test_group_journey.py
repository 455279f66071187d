"""A peer support group in Chromium, with each person in their own browser: a facilitator creates an online group
and schedules its weekly meeting (a series that began last week, so one meeting has already taken place); two
members join from the directory and answer for the next meeting; one posts in the group's discussion under a
pseudonym, the other reports the post and the facilitator hides it from the moderation queue; the facilitator
takes attendance of the meeting that took place. A member of the same organisation outside the group sees its
card but nothing inside it, and no unlisted group. axe-core on every page."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import Role
from alongside.groups import membership
from alongside.groups.models import (
    Attendance,
    Group,
    GroupFormat,
    MeetingSeries,
    MembershipStatus,
    Post,
    Report,
    ReportStatus,
    Rsvp,
)
from alongside.testing.factories import PASSWORD, make_member, make_staff
from tests.browser.helpers import assert_accessible, sign_in

GROUP = "Thursday recovery circle"
UNLISTED = "Evening circle by invitation"
VIDEO = "https://video.example.org/thursday-circle"
POST_TEXT = "Week three without a drink. The evenings are the hardest part for me."
ZONE = "America/New_York"


def sign_in_with_code(page, url, person) -> None:
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    sign_in(page, url, person.email, PASSWORD)
    page.get_by_label("Code").fill(two_factor.current_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def join_from_the_directory(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    page.get_by_role("heading", name="Groups you can join").wait_for()
    assert_accessible(page, f"group-directory-{name}")
    page.get_by_role("button", name=f"Join {GROUP}").click()
    page.get_by_text(f"Welcome to {GROUP}.").wait_for()
    page.get_by_role("heading", name=GROUP, exact=True).wait_for()
    assert page.get_by_role("link", name=VIDEO).count() == 1  # insiders see the video link
    assert_accessible(page, f"group-page-{name}")


def answer_for_the_next_meeting(page, answer: str, name: str, next_meeting_url: str) -> None:
    page.get_by_role("link", name="Meetings", exact=True).click()
    page.get_by_role("heading", name="Coming up").wait_for()
    assert_accessible(page, f"group-meetings-{name}")
    page.get_by_role("region", name="Coming up").get_by_role("link").first.click()
    page.wait_for_url(next_meeting_url)
    assert page.get_by_role("link", name="Join the video call").get_attribute("href") == VIDEO
    page.get_by_role("button", name=answer, exact=True).click()  # htmx swaps the answer in place
    page.get_by_text("Your answer is saved.").wait_for()
    assert page.get_by_role("button", name=answer, exact=True).get_attribute("aria-pressed") == "true"
    assert_accessible(page, f"group-meeting-answered-{name}")


def test_a_group_meets_talks_is_moderated_and_stays_private(live_server, open_page, organisation):
    url = live_server.url
    facilitator = make_staff(organisation, Role.FACILITATOR, display_name="Fran Okafor")
    jordan = make_member(organisation, display_name="Jordan Whitfield")
    casey = make_member(organisation, display_name="Casey Morgan")
    dana = make_member(organisation, display_name="Dana Lee")
    # A group that is not in the directory: its facilitator adds people themselves.
    membership.create_group(
        by=facilitator, organisation=organisation, name=UNLISTED, purpose="For people the team invites.",
        format=GroupFormat.IN_PERSON, address="12 River Street", listed=False,
    )  # fmt: skip

    # 1. The facilitator creates the group and schedules its weekly meeting, which began last week.
    fac = open_page()
    sign_in_with_code(fac, url, facilitator)
    fac.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    fac.get_by_role("region", name="My groups").get_by_text(UNLISTED).wait_for()  # theirs, though unlisted
    assert_accessible(fac, "group-directory-facilitator")
    fac.get_by_role("link", name="New group").click()
    fac.get_by_label("Name", exact=True).fill(GROUP)
    fac.get_by_label("Purpose").fill("An hour each week to talk about staying well, with people who understand.")
    fac.get_by_label("Topic").fill("Alcohol")
    fac.get_by_label("Open: anyone in the organisation may join").check()
    fac.get_by_label("Online", exact=True).check()
    fac.get_by_label("Video link").fill(VIDEO)
    assert_accessible(fac, "group-new")
    fac.get_by_role("button", name="Create the group").click()
    fac.get_by_role("heading", name=GROUP, exact=True).wait_for()
    group = Group.objects.get(name=GROUP)
    assert group.listed and group.video_url == VIDEO

    fac.get_by_role("link", name="Meetings", exact=True).click()
    fac.get_by_role("link", name="Schedule meetings").click()
    assert fac.url == f"{url}/groups/{group.pk}/meetings/new/"
    # Six days ago at noon: that meeting has taken place, and the next one is tomorrow at noon, however late
    # today it is.
    first_date = timezone.now().astimezone(ZoneInfo(ZONE)).date() - timedelta(days=6)
    fac.get_by_label("Title").fill("Thursday circle")
    assert fac.get_by_label("Time zone").input_value() == ZONE  # the facilitator's own, to begin with
    fac.get_by_label("First date").fill(first_date.isoformat())
    fac.get_by_label("Starts").fill("12:00")
    fac.get_by_label("Length in minutes").fill("60")
    fac.get_by_label("Repeats").select_option(label="Every week")
    assert_accessible(fac, "group-meetings-new")
    fac.get_by_role("button", name="Schedule").click()
    fac.get_by_text("Meetings scheduled.").wait_for()
    assert_accessible(fac, "group-meetings-facilitator")

    meeting_series = MeetingSeries.objects.get(group=group)
    assert meeting_series.rrule == "FREQ=WEEKLY" and meeting_series.start_date == first_date
    now = timezone.now()
    taken_place = meeting_series.meetings.order_by("start").first()
    next_meeting = meeting_series.meetings.filter(start__gt=now).order_by("start").first()
    # A year of weekly meetings is stored; the page lists the next two months and offers the rest.
    coming_up = fac.get_by_role("region", name="Coming up")
    assert coming_up.locator("li.card").count() == 8
    assert meeting_series.meetings.filter(start__gt=now).count() > 8
    coming_up.get_by_role("link", name="later meetings").click()
    fac.get_by_role("region", name="Coming up").locator("li.card").nth(8).wait_for()
    assert_accessible(fac)
    assert taken_place.start < now < next_meeting.start
    assert taken_place.start.astimezone(ZoneInfo(ZONE)).date() == first_date
    next_meeting_url = f"{url}/groups/meetings/{next_meeting.pk}/"

    # 2. Two members join from the directory and answer for the next meeting.
    jordan_page = open_page()
    sign_in(jordan_page, url, jordan.email, PASSWORD)
    join_from_the_directory(jordan_page, "jordan")
    answer_for_the_next_meeting(jordan_page, "Going", "jordan", next_meeting_url)

    casey_page = open_page()
    sign_in(casey_page, url, casey.email, PASSWORD)
    join_from_the_directory(casey_page, "casey")
    answer_for_the_next_meeting(casey_page, "Maybe", "casey", next_meeting_url)

    assert {m.person_id for m in group.memberships.filter(status=MembershipStatus.ACTIVE)} == {
        facilitator.pk, jordan.pk, casey.pk,
    }  # fmt: skip
    assert dict(Rsvp.objects.filter(meeting=next_meeting).values_list("person", "answer")) == {
        jordan.pk: "going", casey.pk: "maybe",
    }  # fmt: skip
    fac.goto(next_meeting_url)
    fac.get_by_text("Going: 1 · Maybe: 1 · Can't make it: 0").wait_for()
    assert_accessible(fac, "group-meeting-counts")

    # 3. Jordan posts under a pseudonym, after accepting the guidelines; Casey reads and reports it.
    jordan_page.goto(f"{url}/groups/{group.pk}/")
    jordan_page.get_by_role("link", name="Discussion").click()
    assert_accessible(jordan_page, "group-discussion-empty")
    jordan_page.get_by_role("link", name="Start a thread").click()
    jordan_page.get_by_text("Choose how you appear and accept the community guidelines before you post.").wait_for()
    assert jordan_page.url.startswith(f"{url}/community/profile/")
    assert_accessible(jordan_page, "community-profile")
    jordan_page.get_by_label("Your name in discussions").fill("Quiet River")
    jordan_page.get_by_label("I have read the community guidelines and will follow them").check()
    jordan_page.get_by_role("button", name="Save").click()
    jordan_page.get_by_role("heading", name=f"Start a thread in {GROUP}").wait_for()
    assert_accessible(jordan_page, "group-thread-new")
    jordan_page.get_by_label("Title").fill("Evenings")
    jordan_page.get_by_label("Your message").fill(POST_TEXT)
    jordan_page.get_by_role("button", name="Post", exact=True).click()
    jordan_page.get_by_role("heading", name="Evenings").wait_for()
    jordan_page.get_by_text(POST_TEXT).wait_for()
    assert_accessible(jordan_page, "group-thread-author")
    post = Post.objects.get(author=jordan)
    thread_url = f"{url}/groups/threads/{post.thread_id}/"
    assert jordan_page.url.startswith(thread_url)

    casey_page.goto(f"{url}/groups/{group.pk}/discussion/")
    casey_page.get_by_text("Started by Quiet River").wait_for()
    assert_accessible(casey_page, "group-discussion")
    casey_page.get_by_role("link", name="Evenings").click()
    casey_page.get_by_text(POST_TEXT).wait_for()
    casey_page.get_by_role("heading", name="Quiet River").wait_for()
    assert "Jordan" not in casey_page.content() and "Whitfield" not in casey_page.content()
    assert_accessible(casey_page, "group-thread-reader")
    casey_page.get_by_role("link", name="Report this post").click()
    casey_page.get_by_label("Harassment or disrespect").check()
    casey_page.get_by_label("Anything moderators should know (optional)").fill("It reads like it is aimed at me.")
    assert_accessible(casey_page, "group-report")
    casey_page.get_by_role("button", name="Send the report").click()
    casey_page.get_by_text("Thank you for telling us.").wait_for()
    casey_page.get_by_text("You reported this post.").wait_for()
    report = Report.objects.get(post=post)
    assert report.reporter_id == casey.pk and report.reason == "harassment"

    # The facilitator moderates their group's discussion: the report is in their queue and they hide the post.
    fac.goto(f"{url}/moderation/")
    queued = fac.locator(f"#report-{report.pk}")
    queued.get_by_text("Harassment or disrespect").wait_for()
    queued.get_by_text("Written by Quiet River").wait_for()
    queued.get_by_text("It reads like it is aimed at me.").wait_for()
    assert_accessible(fac, "moderation-queue")
    queued.get_by_label("Reason to hide it (the author sees it)").fill("Please keep to your own experience.")
    queued.get_by_role("button", name="Hide the post").click()
    fac.get_by_text("The post is hidden.").wait_for()
    fac.get_by_text("Nothing is waiting.").wait_for()
    assert_accessible(fac, "moderation-queue-empty")
    post.refresh_from_db()
    report.refresh_from_db()
    assert post.is_hidden and post.hidden_by_id == facilitator.pk and report.status == ReportStatus.HIDDEN

    # The reader sees a placeholder; the author still sees what they wrote, with the moderator's reason.
    casey_page.goto(thread_url)
    casey_page.get_by_text("Hidden by a moderator").wait_for()
    assert POST_TEXT not in casey_page.content()
    assert_accessible(casey_page, "group-thread-hidden-reader")
    jordan_page.goto(thread_url)
    jordan_page.get_by_text("Hidden by a moderator: Please keep to your own experience.").wait_for()
    jordan_page.get_by_text("Only you and the moderators see what it said:").wait_for()
    jordan_page.get_by_text(POST_TEXT).wait_for()
    assert_accessible(jordan_page, "group-thread-hidden-author")

    # 4. The facilitator takes attendance of the meeting that has taken place.
    fac.goto(f"{url}/groups/{group.pk}/meetings/")
    fac.get_by_role("region", name="Past meetings").get_by_role("link").first.click()
    fac.wait_for_url(f"{url}/groups/meetings/{taken_place.pk}/")
    attendance = fac.get_by_role("region", name="Attendance")
    attendance.get_by_label("Jordan Whitfield").check()
    assert not attendance.get_by_label("Casey Morgan").is_checked()
    assert_accessible(fac, "group-meeting-attendance")
    attendance.get_by_role("button", name="Save attendance").click()
    fac.get_by_text("Attendance recorded.", exact=True).wait_for()
    attendance = fac.get_by_role("region", name="Attendance")
    attendance.get_by_text("Recorded. Saving again replaces it.").wait_for()
    assert attendance.get_by_label("Jordan Whitfield").is_checked()
    assert not attendance.get_by_label("Casey Morgan").is_checked()
    came = attendance.get_by_role("list", name="Recorded attendance")
    came.get_by_text("Jordan Whitfield: came").wait_for()
    came.get_by_text("Casey Morgan: did not come").wait_for()
    assert_accessible(fac, "group-meeting-attendance-recorded")
    assert dict(Attendance.objects.filter(meeting=taken_place).values_list("person", "attended")) == {
        jordan.pk: True, casey.pk: False,
    }  # fmt: skip

    # 5. A member of the same organisation outside the group: its card, but nothing inside, and no unlisted group.
    dana_page = open_page()
    sign_in(dana_page, url, dana.email, PASSWORD)
    dana_page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    card = dana_page.locator(f"#group-card-{group.pk}")
    card.get_by_role("button", name=f"Join {GROUP}").wait_for()
    assert card.get_by_role("link").count() == 0  # neither the group's page nor its video link
    assert VIDEO not in dana_page.content()
    assert UNLISTED not in dana_page.content()
    assert_accessible(dana_page, "group-directory-outsider")
    refused = [thread_url, next_meeting_url, f"{url}/groups/{group.pk}/", f"{url}/groups/{group.pk}/discussion/"]
    for address in refused:
        response = dana_page.goto(address)
        assert response.status == 404, address
        assert POST_TEXT not in dana_page.content() and VIDEO not in dana_page.content()
    assert_accessible(dana_page, "group-outsider-not-found")
    # Chromium reports each refused page as a failed load in the console; those are the answers expected here.
    dana_page.console_problems[:] = [
        problem
        for problem in dana_page.console_problems
        if not (problem.split(": ", 1)[0] in refused and "status of 404" in problem)
    ]
