"""Outreach pages: a member's outreach log with the form to record a contact, and a supporter's open tasks."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alongside.care import outreach, policy
from alongside.care.models import Category, ContactMethod, ContactOutcome, OutreachContact, OutreachTask
from alongside.core.forms import add_domain_errors


class ContactForm(forms.Form):
    method = forms.ChoiceField(label=gettext_lazy("How"), choices=ContactMethod.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(
        label=gettext_lazy("What happened"), choices=ContactOutcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("Note (for the care team)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_step = forms.CharField(label=gettext_lazy("Next step"), required=False, max_length=300)
    task = forms.ChoiceField(label=gettext_lazy("For the task"), required=False)
    done = forms.BooleanField(label=gettext_lazy("This finishes the task"), required=False)

    def __init__(self, *args, tasks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = {str(task.pk): task for task in tasks}
        self.fields["task"].choices = [("", gettext_lazy("No task"))] + [
            (str(task.pk), f"{task.reason} ({task.due_at:%Y-%m-%d})") for task in tasks
        ]


@login_required
def member_outreach(request, member_pk):
    """A supporter's view of the outreach around one member (their engagement, by consent)."""
    if not policy.live_relationships(request.user).filter(member_id=member_pk).exists():
        raise Http404
    member = policy.open_member_record(request, member_pk, Category.ENGAGEMENT, detail="outreach log")
    if member == request.user:
        raise Http404
    # Only this supporter's organisations' outreach: a member of two organisations has two care teams.
    organisations = policy.live_relationships(request.user).filter(member=member).values("organisation")
    tasks = list(
        OutreachTask.objects.filter(member=member, status="open", organisation__in=organisations).select_related(
            "owner"
        )
    )
    form = ContactForm(request.POST if request.method == "POST" else None, tasks=tasks)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outreach.record_contact(
                by=request.user, member=member, method=data["method"], outcome=data["outcome"], note=data["note"],
                next_step=data["next_step"], task=form.tasks.get(data["task"] or ""), done=data["done"],
                request=request,
            )  # fmt: skip
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Contact recorded."))
            return redirect("care:member_outreach", member_pk=member.pk)
    colleagues = policy.colleagues(request.user, member)
    contacts = (
        OutreachContact.objects.filter(member=member, staff__in=colleagues)
        .select_related("staff", "task")
        .distinct()[:50]
    )
    return render(
        request, "care/outreach/member.html", {"member": member, "form": form, "tasks": tasks, "contacts": contacts}
    )


@login_required
def my_outreach_tasks(request):
    if not request.user.is_care_staff:
        raise PermissionDenied
    return render(request, "care/outreach/tasks.html", {"tasks": outreach.open_tasks_for(request.user)})
