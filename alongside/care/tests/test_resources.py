"""The educational resources library: who keeps it, what members see, and the care team's changes to a plan's
resources. Each test creates the data that could leak before asserting that it does not."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from alongside.accounts.models import Role
from alongside.audit.models import AuditAction, AuditEvent
from alongside.care import actions, resources
from alongside.care.models import Category, Resource, ResourceAssignment
from alongside.testing.factories import make_member, make_organisation, make_staff, support

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(organisation):
    return make_staff(organisation, Role.ORG_ADMIN, display_name="Test Admin")


def add_resource(organisation, by, **fields):
    values = {"title": "Sleep and recovery", "url": "https://example.org/sleep"} | fields
    return resources.save_resource(by=by, organisation=organisation, **values)


def form_data(**fields):
    return {"title": "", "summary": "", "url": "", "body": "", "topics": ""} | fields


# The library ----------------------------------------------------------------------------------------------


def test_an_admin_adds_edits_finds_and_archives_a_resource(client_for, organisation, admin):
    client = client_for(admin)
    response = client.post(
        reverse("care:resource_new", args=[organisation.slug]),
        form_data(title="Noticing early signs", url="https://example.org/signs", topics=" relapse ,Sleep,sleep"),
    )
    assert response.status_code == 302
    resource = Resource.objects.get()
    assert (resource.organisation, resource.created_by, resource.topic_list) == (
        organisation,
        admin,
        ["relapse", "Sleep"],
    )
    response = client.post(
        reverse("care:resource_edit", args=[organisation.slug, resource.pk]),
        form_data(title="Noticing early warning signs", body="Write down three signs.", topics="relapse"),
    )
    assert response.status_code == 302
    resource.refresh_from_db()
    assert (resource.title, resource.url) == ("Noticing early warning signs", "")
    assert resource.body == "Write down three signs."
    add_resource(organisation, admin, title="Eating well", topics="nutrition")

    library = reverse("care:resource_library", args=[organisation.slug])
    page = client.get(library).content.decode()
    assert "Noticing early warning signs" in page and "Eating well" in page
    by_topic = client.get(library, {"topic": "RELAPSE"}).content.decode()
    assert "Noticing early warning signs" in by_topic and "Eating well" not in by_topic
    by_words = client.get(library, {"q": "three"}).content.decode()
    assert "Noticing early warning signs" in by_words and "Eating well" not in by_words

    response = client.post(reverse("care:resource_archive", args=[organisation.slug, resource.pk]))
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.archived_at is not None
    client.get(library)  # shows the message that names it
    assert "Noticing early warning signs" not in client.get(library).content.decode()


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.CASE_MANAGER])
def test_clinicians_and_case_managers_keep_the_library_too(client_for, organisation, role):
    keeper = make_staff(organisation, role)
    response = client_for(keeper).post(
        reverse("care:resource_new", args=[organisation.slug]), form_data(title="Grounding", body="Five things.")
    )
    assert response.status_code == 302
    assert Resource.objects.get().title == "Grounding"
    home = client_for(keeper).get(reverse("web:staff_home")).content.decode()
    assert reverse("care:resource_library", args=[organisation.slug]) in home


def test_others_do_not_find_the_library(client_for, organisation, admin, member, outsider, other_organisation):
    resource = add_resource(organisation, admin, title="Riverside only", body="Not for other organisations")
    mentor = make_staff(organisation, Role.PEER_MENTOR)
    other_admin = make_staff(other_organisation, Role.ORG_ADMIN)
    urls = [
        reverse("care:resource_library", args=[organisation.slug]),
        reverse("care:resource_new", args=[organisation.slug]),
        reverse("care:resource_edit", args=[organisation.slug, resource.pk]),
    ]
    for person in (mentor, outsider, other_admin, member):
        client = client_for(person)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 404, (person, url)
            assert "Riverside only" not in response.content.decode()
        archive = client.post(reverse("care:resource_archive", args=[organisation.slug, resource.pk]))
        assert archive.status_code == 404
        edit = client.post(urls[2], form_data(title="Taken over", body="x"))
        assert edit.status_code == 404
    resource.refresh_from_db()
    assert (resource.title, resource.archived_at) == ("Riverside only", None)
    # Another organisation's own library does not reach this one's resources either.
    response = client_for(other_admin).get(reverse("care:resource_edit", args=[other_organisation.slug, resource.pk]))
    assert response.status_code == 404


def test_anonymous_people_are_sent_to_sign_in(client, organisation):
    response = client.get(reverse("care:resource_library", args=[organisation.slug]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_only_keepers_may_save_or_archive_through_the_domain(organisation, admin, staff):
    mentor = make_staff(organisation, Role.PEER_MENTOR)
    with pytest.raises(PermissionDenied):
        add_resource(organisation, mentor)
    resource = add_resource(organisation, staff)
    with pytest.raises(PermissionDenied):
        resources.archive_resource(by=mentor, resource=resource)
    other = make_staff(make_organisation(), Role.ORG_ADMIN)
    with pytest.raises(PermissionDenied):
        resources.save_resource(by=other, organisation=organisation, resource=resource, title="Mine now", body="x")
    assert Resource.objects.get().title == "Sleep and recovery"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "   ", "url": "https://example.org"}, "title", "Give the resource a title."),
        ({"title": "x" * 201, "url": "https://example.org"}, "title", "under 200 characters"),
        ({"title": "Nothing in it"}, "url", "Give a link, write a text, or both."),
        ({"title": "Script", "url": "javascript:alert(1)"}, "url", "starts with https://"),
        ({"title": "FTP", "url": "ftp://example.org/file"}, "url", "starts with https://"),
        ({"title": "Long", "body": "x" * 20_001}, "body", "under 20000 characters"),
        ({"title": "Topics", "body": "x", "topics": "y" * 61}, "topics", "each topic"),
    ],
)
def test_save_resource_names_the_field_that_is_wrong(organisation, admin, fields, field, message):
    with pytest.raises(ValidationError) as raised:
        resources.save_resource(by=admin, organisation=organisation, **fields)
    assert message in " ".join(raised.value.message_dict[field])
    assert not Resource.objects.exists()


def test_bad_input_rerenders_with_messages_and_loses_nothing(client_for, organisation, admin):
    client = client_for(admin)
    long_text = "My own words, kept.\n" * 1100  # over 20,000 characters
    response = client.post(
        reverse("care:resource_new", args=[organisation.slug]),
        form_data(
            title="Breathing", summary="A short summary", url="javascript:alert(1)", body=long_text, topics="calm"
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please check the form." in page
    assert "Enter a web address that starts with https://" in page
    assert "Keep this under 20000 characters" in page
    assert 'value="Breathing"' in page and 'value="A short summary"' in page and 'value="calm"' in page
    assert 'value="javascript:alert(1)"' in page and "My own words, kept." in page
    assert not Resource.objects.exists()

    response = client.post(reverse("care:resource_new", args=[organisation.slug]), form_data(summary="No title"))
    assert response.status_code == 400
    assert "field--invalid" in response.content.decode() and 'value="No title"' in response.content.decode()


def test_editing_a_resource_of_another_organisation_is_404(client_for, organisation, other_organisation, admin):
    theirs = add_resource(other_organisation, make_staff(other_organisation, Role.ORG_ADMIN), title="Harbour guide")
    response = client_for(admin).post(
        reverse("care:resource_edit", args=[organisation.slug, theirs.pk]), form_data(title="Mine", body="x")
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.title == "Harbour guide"


# The member's resources -----------------------------------------------------------------------------------


def test_html_in_a_resource_is_shown_as_text(client_for, organisation, admin, staff, member, relationship):
    resource = add_resource(
        organisation,
        admin,
        title="<script>alert('t')</script>Title",
        summary="<b>bold</b>",
        body="<img src=x onerror=alert(1)>\nSecond line",
        url="https://example.org/a?b=1&c=2",
    )
    assignment = resources.assign(by=staff, member=member, resource=resource)
    library = client_for(admin).get(reverse("care:resource_library", args=[organisation.slug])).content.decode()
    page = client_for(member).get(reverse("care:my_resource", args=[assignment.pk])).content.decode()
    listing = client_for(member).get(reverse("care:my_resources")).content.decode()
    for body in (library, page, listing):
        assert "<script>alert" not in body and "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;Title" in body
        assert "<b>bold</b>" not in body
    assert "<img src=x" not in page
    assert "<p>&lt;img src=x onerror=alert(1)&gt;<br>Second line</p>" in page
    assert 'href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank"' in page


def test_assigned_resources_show_to_the_member_who_marks_one_read(client_for, organisation, admin, staff, member):
    support(staff, member, organisation)
    older = resources.assign(by=staff, member=member, resource=add_resource(organisation, admin, title="Older"))
    newer = resources.assign(
        by=staff, member=member, resource=add_resource(organisation, admin, title="Newer", body="Read me")
    )
    assert list(resources.assigned_to(member)) == [newer, older]
    client = client_for(member)
    listing = client.get(reverse("care:my_resources")).content.decode()
    assert listing.index("Newer") < listing.index("Older") and "Not read yet" in listing
    assert reverse("care:my_resources") in client.get(reverse("web:member_home")).content.decode()

    page = client.get(reverse("care:my_resource", args=[newer.pk])).content.decode()
    assert "Read me" in page and "added by Test Clinician" in page and "Mark as read" in page
    response = client.post(reverse("care:resource_mark_read", args=[newer.pk]))
    assert response.status_code == 302
    newer.refresh_from_db()
    first_read = newer.read_at
    assert first_read is not None
    client.post(reverse("care:resource_mark_read", args=[newer.pk]))
    newer.refresh_from_db()
    assert newer.read_at == first_read
    assert "You marked this read" in client.get(reverse("care:my_resource", args=[newer.pk])).content.decode()
    older.refresh_from_db()
    assert older.read_at is None


def test_another_member_finds_nothing_of_mine(client_for, organisation, admin, staff, member, relationship):
    assignment = resources.assign(
        by=staff, member=member, resource=add_resource(organisation, admin, title="Only for Test Member")
    )
    someone = make_member(organisation)
    client = client_for(someone)
    assert client.get(reverse("care:my_resource", args=[assignment.pk])).status_code == 404
    assert client.post(reverse("care:resource_mark_read", args=[assignment.pk])).status_code == 404
    assert "Only for Test Member" not in client.get(reverse("care:my_resources")).content.decode()
    assignment.refresh_from_db()
    assert assignment.read_at is None
    with pytest.raises(PermissionDenied):
        resources.mark_read(member=someone, assignment=assignment)
    # Staff have no "my resources": these are a member's own pages.
    assert client_for(staff).get(reverse("care:my_resources")).status_code == 403


def test_archived_resources_disappear_from_the_members_list(
    client_for, organisation, admin, staff, member, relationship
):
    kept = resources.assign(by=staff, member=member, resource=add_resource(organisation, admin, title="Kept"))
    gone = resources.assign(by=staff, member=member, resource=add_resource(organisation, admin, title="Withdrawn one"))
    resources.archive_resource(by=admin, resource=gone.resource)
    client = client_for(member)
    listing = client.get(reverse("care:my_resources")).content.decode()
    assert "Kept" in listing and "Withdrawn one" not in listing
    assert client.get(reverse("care:my_resource", args=[gone.pk])).status_code == 404
    assert client.post(reverse("care:resource_mark_read", args=[gone.pk])).status_code == 404
    assert list(resources.assigned_to(member)) == [kept]
    assert gone.resource not in resources.assignable(by=staff, member=member)
    with pytest.raises(ValidationError):
        resources.assign(by=staff, member=member, resource=gone.resource)


# The care team's changes ----------------------------------------------------------------------------------


def test_a_consented_clinician_adds_and_removes_a_resource_and_it_is_audited(
    client_for, organisation, admin, staff, member, relationship
):
    resource = add_resource(organisation, admin, title="Sleep and recovery")
    client = client_for(staff)
    url = reverse("care:resource_assign", args=[member.pk])
    response = client.post(url, {"resource": resource.pk})
    assert response.status_code == 302 and response["Location"] == reverse("web:member_record", args=[member.pk])
    assignment = ResourceAssignment.objects.get()
    assert (assignment.member, assignment.resource, assignment.assigned_by) == (member, resource, staff)
    assert client.post(url, {"resource": resource.pk}).status_code == 302  # twice is fine
    assert ResourceAssignment.objects.count() == 1

    changes = AuditEvent.objects.filter(action=AuditAction.CHANGE, member=member, category=Category.PLAN)
    added = changes.filter(detail__contains="added resource")
    assert added.count() == 1
    event = added.get()
    assert (event.actor, event.actor_roles, event.organisation) == (staff, "clinician", organisation)
    assert "Sleep and recovery" in event.detail

    response = client.post(reverse("care:resource_unassign", args=[member.pk, assignment.pk]))
    assert response.status_code == 302
    assert not ResourceAssignment.objects.exists()
    assert changes.filter(detail__contains="removed resource", actor=staff).count() == 1
    # The member sees who changed their plan.
    assert "Test Clinician" in client_for(member).get(reverse("care:access_log")).content.decode()


def test_a_clinician_without_plan_consent_cannot_change_the_resources(
    client_for, organisation, admin, staff, member, relationship
):
    resource = add_resource(organisation, admin)
    assignment = resources.assign(by=staff, member=member, resource=resource)
    shared = relationship.shared_categories - {Category.PLAN}
    actions.set_sharing(member=member, relationship=relationship, categories=shared, safety_alerts=False)
    changes = AuditEvent.objects.filter(action=AuditAction.CHANGE)
    before = changes.count()
    client = client_for(staff)
    other = add_resource(organisation, admin, title="Another")
    assert client.post(reverse("care:resource_assign", args=[member.pk]), {"resource": other.pk}).status_code == 404
    assert client.post(reverse("care:resource_unassign", args=[member.pk, assignment.pk])).status_code == 404
    assert list(ResourceAssignment.objects.all()) == [assignment]
    assert changes.count() == before
    with pytest.raises(PermissionDenied):
        resources.assign(by=staff, member=member, resource=other)
    with pytest.raises(PermissionDenied):
        resources.unassign(by=staff, assignment=assignment)


def test_supporters_without_a_co_authoring_role_and_outsiders_get_404(
    client_for, organisation, admin, staff, member, relationship, outsider
):
    resource = add_resource(organisation, admin)
    assignment = resources.assign(by=staff, member=member, resource=resource)
    mentor = make_staff(organisation, Role.PEER_MENTOR)
    support(mentor, member, organisation, Role.PEER_MENTOR)
    for person in (mentor, admin, outsider, make_member(organisation)):
        client = client_for(person)
        assign = client.post(reverse("care:resource_assign", args=[member.pk]), {"resource": resource.pk})
        assert assign.status_code == 404, person
        assert "Test Member" not in assign.content.decode()
        unassign = client.post(reverse("care:resource_unassign", args=[member.pk, assignment.pk]))
        assert unassign.status_code == 404, person
    assert ResourceAssignment.objects.count() == 1
    # The member themselves uses their own pages, not the care team's.
    own = client_for(member).post(reverse("care:resource_assign", args=[member.pk]), {"resource": resource.pk})
    assert own.status_code == 404


def test_only_resources_of_the_members_organisations_can_be_added(
    client_for, organisation, other_organisation, admin, staff, member, relationship
):
    theirs = add_resource(other_organisation, make_staff(other_organisation, Role.ORG_ADMIN), title="Harbour leaflet")
    response = client_for(staff).post(reverse("care:resource_assign", args=[member.pk]), {"resource": theirs.pk})
    assert response.status_code == 302
    assert not ResourceAssignment.objects.exists()
    with pytest.raises(ValidationError) as raised:
        resources.assign(by=staff, member=member, resource=theirs)
    assert "resource" in raised.value.message_dict
    assert list(resources.assignable(by=staff, member=member)) == []
    assert not AuditEvent.objects.filter(detail__contains="Harbour").exists()


def test_removing_another_members_assignment_is_404(client_for, organisation, admin, staff, member, relationship):
    someone = make_member(organisation)
    support(staff, someone, organisation)
    theirs = resources.assign(by=staff, member=someone, resource=add_resource(organisation, admin))
    response = client_for(staff).post(reverse("care:resource_unassign", args=[member.pk, theirs.pk]))
    assert response.status_code == 404
    assert ResourceAssignment.objects.filter(pk=theirs.pk).exists()


def test_the_forms_return_to_the_page_they_were_on(client_for, organisation, admin, staff, member, relationship):
    resource = add_resource(organisation, admin)
    client = client_for(staff)
    url = reverse("care:resource_assign", args=[member.pk])
    here = f"/team/members/{member.pk}/plan/"
    assert client.post(url, {"resource": resource.pk, "next": here})["Location"] == here
    away = client.post(url, {"resource": resource.pk, "next": "https://evil.example/"})
    assert away["Location"] == reverse("web:member_record", args=[member.pk])
    missing = client.post(url, {"resource": "not a number"}, follow=False)
    assert missing.status_code == 302


def test_the_partials_for_the_plan_pages(organisation, admin, staff, member, relationship):
    resource = add_resource(organisation, admin, title="Sleep <and> recovery")
    resources.archive_resource(by=admin, resource=add_resource(organisation, admin, title="Archived one"))
    request = RequestFactory().get(f"/team/members/{member.pk}/plan/")
    form = render_to_string(
        "care/resources/assign_form.html",
        {"member": member, "library": resources.assignable(by=staff, member=member), "request": request},
    )
    assert f'action="{reverse("care:resource_assign", args=[member.pk])}"' in form
    assert f'<option value="{resource.pk}">Sleep &lt;and&gt; recovery</option>' in form
    assert f'name="next" value="/team/members/{member.pk}/plan/"' in form
    assignment = resources.assign(by=staff, member=member, resource=resource)
    staff_list = render_to_string(
        "care/resources/assigned_list.html", {"assignments": resources.assigned_to(member), "request": request}
    )
    assert reverse("care:resource_unassign", args=[member.pk, assignment.pk]) in staff_list
    assert "Archived one" not in form
    assert "Not read yet" in staff_list and reverse("care:my_resource", args=[assignment.pk]) not in staff_list
    member_list = render_to_string(
        "care/resources/assigned_list.html",
        {"assignments": resources.assigned_to(member), "member_view": True, "request": request},
    )
    assert reverse("care:my_resource", args=[assignment.pk]) in member_list and "unassign" not in member_list
