"""The aftercare and safety plan: versions, stale saves, sign-off, consent, audit, the API and bad input."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import actions, plan
from alongside.care.models import Category, PlanVersion
from alongside.monitoring.models import Tag, TagKind
from alongside.testing.factories import make_staff, support

CONTENT = {
    "coping_strategies": ["Walk round the block", "Cold water on my face"],
    "early_warning_signs": [{"item": "Skipping meals", "response": "Eat something small"}],
    "help_contacts": [{"name": "Sam (sister)", "phone": "+1 555 010 0101", "note": "evenings"}],
    "reason_for_living": "My daughter",
}


def test_each_save_is_a_new_encrypted_version(member):
    first = plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    second = plan.save_plan(
        member, by=member, content=CONTENT | {"reason_for_living": "My daughter and my dog"}, based_on=1
    )
    assert (first.number, second.number) == (1, 2)
    assert plan.content_of(first)["reason_for_living"] == "My daughter"  # old versions never change
    assert plan.content_of(plan.current_version(member))["reason_for_living"] == "My daughter and my dog"
    with connection.cursor() as cursor:
        cursor.execute("SELECT content_json FROM care_planversion WHERE id = %s", [second.pk])
        assert "daughter" not in cursor.fetchone()[0]


def test_saving_unchanged_content_makes_no_version(member):
    version = plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    assert plan.save_plan(member, by=member, content=CONTENT, based_on=1) == version
    assert PlanVersion.objects.filter(plan__member=member).count() == 1


def test_a_save_from_an_old_version_is_refused_as_stale(member, staff, relationship):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    plan.save_plan(member, by=staff, content=CONTENT | {"post_crisis": "Sleep"}, based_on=1)
    with pytest.raises(plan.StalePlan) as stale:
        plan.save_plan(member, by=member, content=CONTENT | {"when_well": "Chatty"}, based_on=1)
    assert stale.value.current.number == 2
    assert plan.content_of(plan.current_version(member))["post_crisis"] == "Sleep"


def test_early_warning_signs_become_check_in_tags_and_old_ones_are_archived(member):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    signs = {tag.label for tag in Tag.objects.filter(member=member, kind=TagKind.WARNING_SIGN, archived=False)}
    assert signs == {"Skipping meals"}
    changed = CONTENT | {"early_warning_signs": [{"item": "Not sleeping", "response": ""}]}
    plan.save_plan(member, by=member, content=changed, based_on=1)
    tags = {tag.label: tag.archived for tag in Tag.objects.filter(member=member, kind=TagKind.WARNING_SIGN)}
    assert tags == {"Skipping meals": True, "Not sleeping": False}


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"help_contacts": [{"name": "Sam", "phone": "call me maybe"}]}, "help_contacts.0.phone"),
        ({"help_contacts": [{"name": "", "phone": "555 0101"}]}, "help_contacts.0.name"),
        ({"when_well": "x" * (plan.MAX_TEXT + 1)}, "when_well"),
        ({"early_warning_signs": [{"item": "y" * 61}]}, "early_warning_signs.0.item"),
        ({"coping_strategies": ["z"] * (plan.MAX_ITEMS + 1)}, "coping_strategies"),
        ({"not_a_section": ["a"]}, "content"),
        ({"coping_strategies": "not a list"}, "coping_strategies"),
    ],
)
def test_bad_content_is_refused_with_the_field_named(member, content, field):
    with pytest.raises(ValidationError) as error:
        plan.save_plan(member, by=member, content=content, based_on=0)
    assert field in error.value.message_dict
    assert plan.current_version(member) is None


def test_sign_off_by_member_and_care_team_makes_it_agreed_and_sets_a_review(member, staff, relationship):
    version = plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    plan.sign_off(version, by=member)
    assert not plan.is_agreed(version)
    plan.sign_off(version, by=staff)
    assert plan.is_agreed(version)
    assert plan.plan_of(member).review_due is not None
    assert AuditEvent.objects.filter(actor=staff, member=member, detail__contains="agreed plan version 1").exists()


# Pages -----------------------------------------------------------------------------------------------------


def post_plan(client, url, content: dict, based_on: int):
    data = {"based_on": str(based_on)}
    for key, value in content.items():
        if isinstance(value, str):
            data[key] = value
        elif value and isinstance(value[0], str):
            data[key] = "\n".join(value)
        else:
            data[f"{key}-rows"] = str(len(value))
            for index, row in enumerate(value):
                for part, text in row.items():
                    data[f"{key}-{index}-{part}"] = text
    return client.post(url, data)


def test_member_writes_the_plan_and_sees_it_escaped(member, client_for):
    client = client_for(member)
    hostile = CONTENT | {"reason_for_living": "<script>alert(1)</script> مرحبا 🌱"}
    response = post_plan(client, reverse("plan:edit_mine"), hostile, 0)
    assert response.status_code == 302
    page = client.get(reverse("plan:mine")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; مرحبا 🌱" in page
    assert "<script>alert(1)" not in page
    assert 'href="tel:+15550100101"' in page


def test_a_bad_phone_number_re_renders_the_form_with_everything_typed(member, client_for):
    client = client_for(member)
    content = CONTENT | {"help_contacts": [{"name": "Sam", "phone": "not a number", "note": "evenings"}]}
    response = post_plan(client, reverse("plan:edit_mine"), content, 0)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Row 1, phone" in page and 'value="not a number"' in page and "Cold water on my face" in page
    assert plan.current_version(member) is None


def test_the_stale_save_is_shown_the_changes_and_keeps_the_typed_text(member, staff, relationship, client_for):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    plan.save_plan(member, by=staff, content=CONTENT | {"post_crisis": "A quiet week"}, based_on=1)
    client = client_for(member)
    response = post_plan(client, reverse("plan:edit_mine"), CONTENT | {"when_well": "I laugh a lot"}, 1)
    assert response.status_code == 200
    page = response.content.decode()
    assert "changed while you were editing" in page
    assert "A quiet week" in page  # what the clinician added
    assert "I laugh a lot" in page  # what the member typed, not lost
    assert 'name="based_on" value="2"' in page
    assert plan.current_version(member).number == 2
    # Having seen the changes, the member saves again and it goes through.
    again = post_plan(client, reverse("plan:edit_mine"), CONTENT | {"when_well": "I laugh a lot"}, 2)
    assert again.status_code == 302 and plan.current_version(member).number == 3


def test_clinician_reads_and_edits_by_consent_with_audit(member, staff, relationship, client_for):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    client = client_for(staff)
    assert client.get(reverse("plan:view", args=[member.pk])).status_code == 200
    assert AuditEvent.objects.filter(
        actor=staff, member=member, action=AuditAction.VIEW, category=Category.PLAN
    ).exists()
    response = post_plan(client, reverse("plan:edit", args=[member.pk]), CONTENT | {"post_crisis": "Rest"}, 1)
    assert response.status_code == 302
    assert plan.current_version(member).author == staff
    assert AuditEvent.objects.filter(
        actor=staff, member=member, action=AuditAction.CHANGE, detail="saved plan version 2"
    ).exists()


def test_without_plan_consent_the_plan_is_not_found(member, staff, relationship, client_for, outsider):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    actions.set_sharing(member=member, relationship=relationship, categories=["checkins"], safety_alerts=True)
    for person in (staff, outsider):
        client = client_for(person)
        for name in ("view", "edit", "history", "print", "card"):
            response = client.get(reverse(f"plan:{name}", args=[member.pk]))
            assert response.status_code == 404, name
            assert "Sam (sister)" not in response.content.decode()
        assert post_plan(client, reverse("plan:edit", args=[member.pk]), {"when_well": "x"}, 1).status_code == 404
    assert plan.current_version(member).number == 1


def test_peer_mentor_with_plan_consent_reads_but_does_not_edit(member, organisation, client_for):
    mentor = make_staff(organisation, Role.PEER_MENTOR)
    relationship = support(mentor, member, organisation, Role.PEER_MENTOR)
    actions.set_sharing(member=member, relationship=relationship, categories=["plan"], safety_alerts=False)
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    client = client_for(mentor)
    assert client.get(reverse("plan:view", args=[member.pk])).status_code == 200
    assert client.get(reverse("plan:edit", args=[member.pk])).status_code == 404
    assert client.post(reverse("plan:sign", args=[member.pk]), {"version": "1"}).status_code == 404


def test_history_version_and_differences_pages(member, client_for):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    plan.save_plan(member, by=member, content=CONTENT | {"coping_strategies": ["Call Sam"]}, based_on=1)
    client = client_for(member)
    assert "Version 2" in client.get(reverse("plan:history_mine")).content.decode()
    assert "Walk round the block" in client.get(reverse("plan:version_mine", args=[1])).content.decode()
    diff = client.get(reverse("plan:diff_mine") + "?from=1&to=2").content.decode()
    assert "Call Sam" in diff and "Walk round the block" in diff and "Removed:" in diff
    assert client.get(reverse("plan:version_mine", args=[9])).status_code == 404


def test_signing_an_outdated_version_is_refused(member, client_for):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    plan.save_plan(member, by=member, content=CONTENT | {"post_crisis": "Rest"}, based_on=1)
    client = client_for(member)
    client.post(reverse("plan:sign_mine"), {"version": "1"})
    assert not plan.current_version(member).signoffs.exists()
    client.post(reverse("plan:sign_mine"), {"version": "2"})
    assert plan.current_version(member).signoffs.filter(person=member).exists()


def test_print_and_wallet_card_show_the_plan_and_a_crisis_line(member, client_for):
    plan.save_plan(member, by=member, content=CONTENT, based_on=0)
    client = client_for(member)
    printed = client.get(reverse("plan:print_mine")).content.decode()
    assert "Walk round the block" in printed and "988" in printed
    card = client.get(reverse("plan:card_mine")).content.decode()
    assert "Skipping meals" in card and "Sam (sister)" in card and "988" in card


# API -------------------------------------------------------------------------------------------------------


def api(client, method, body=None, **headers):
    return getattr(client, method)(
        "/api/v1/plan", json.dumps(body) if body is not None else None, content_type="application/json",
        headers=headers,
    )  # fmt: skip


def test_api_reads_and_writes_with_version_checks(member, client_for):
    client = client_for(member)
    got = api(client, "get")
    assert got.status_code == 200 and got.json()["version"] == 0 and got["ETag"] == '"0"'
    assert api(client, "put", {"content": CONTENT}).status_code == 428
    saved = api(client, "put", {"content": CONTENT}, **{"If-Match": '"0"'})
    assert saved.status_code == 200 and saved.json()["version"] == 1
    assert saved.json()["content"]["coping_strategies"][0] == "Walk round the block"
    stale = api(client, "put", {"content": CONTENT | {"post_crisis": "x"}, "version": 0})
    assert stale.status_code == 409 and stale.json()["current_version"] == 1 and stale.json()["fields"] == ["version"]
    bad = api(client, "put", {"content": {"help_contacts": [{"name": "A", "phone": "abc"}]}, "version": 1})
    assert bad.status_code == 422 and bad.json()["fields"] == ["content.help_contacts.0.phone"]
    assert plan.current_version(member).number == 1


def test_api_plan_is_only_for_members(staff, client_for):
    assert api(client_for(staff), "get").status_code == 403


def test_merge_keeps_both_peoples_edits_and_names_the_sections_both_changed():
    base = plan.clean_content(CONTENT)
    theirs = base | {"post_crisis": "Theirs", "when_well": "Theirs too"}
    mine = base | {"coping_strategies": ["Mine"], "when_well": "Mine too"}
    merged, conflicts = plan.merge(base, theirs, mine)
    assert merged["post_crisis"] == "Theirs"  # only they changed it
    assert merged["coping_strategies"] == ["Mine"]  # only I changed it
    assert merged["when_well"] == "Mine too"  # both changed it: mine stays in the form …
    assert [section.key for section in conflicts] == ["when_well"]  # … and the section is named
    assert merged["help_contacts"] == base["help_contacts"]
