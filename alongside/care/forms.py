from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from alongside.accounts.models import Role
from alongside.care.models import SHAREABLE_CATEGORIES, SUPPORT_ROLES
from alongside.care.plan_sections import CONTACTS, LINES, PAIRS, SECTIONS, TEXT
from alongside.care.policy import members_of


class SharingForm(forms.Form):
    categories = forms.MultipleChoiceField(
        label=_("What this supporter may see"),
        choices=[(category.value, category.label) for category in SHAREABLE_CATEGORIES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    safety_alerts = forms.BooleanField(
        label=_("Tell this supporter if I say I am struggling or my answers suggest I may be at risk"),
        required=False,
    )

    def __init__(self, *args, relationship, **kwargs):
        self.relationship = relationship
        initial = {"categories": sorted(relationship.shared_categories), "safety_alerts": relationship.safety_alerts}
        super().__init__(*args, initial=initial, prefix=f"r{relationship.pk}", **kwargs)


class AddSupporterForm(forms.Form):
    member = forms.ModelChoiceField(label=_("Member"), queryset=None)
    staff = forms.ModelChoiceField(label=_("Supporter"), queryset=None)
    role = forms.ChoiceField(label=_("As"), choices=[(role.value, role.label) for role in SUPPORT_ROLES])

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members_of(organisation).order_by("display_name")
        self.fields["staff"].queryset = (
            get_user_model()
            .objects.filter(
                org_roles__organisation=organisation,
                org_roles__role__in=[role.value for role in SUPPORT_ROLES],
                is_active=True,
            )
            .distinct()
            .order_by("display_name")
        )
        for name in ("member", "staff"):
            self.fields[name].label_from_instance = lambda user: user.display_name


class StaffRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        choices=[(role.value, role.label) for role in Role if role != Role.MEMBER],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class SuccessorForm(forms.Form):
    successor = forms.ModelChoiceField(label=_("Who takes over their members"), queryset=None, required=False)
    confirm = forms.BooleanField(label=_("Yes, end their access to this organisation now"))

    def __init__(self, *args, organisation, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = (
            get_user_model()
            .objects.filter(
                org_roles__organisation=organisation,
                org_roles__role__in=[role.value for role in SUPPORT_ROLES],
                is_active=True,
            )
            .exclude(pk=person.pk)
            .distinct()
            .order_by("display_name")
        )
        self.fields["successor"].label_from_instance = lambda user: user.display_name


class MemberInvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"))
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=None, required=False, help_text=_("Members join the program's first phase.")
    )

    def __init__(self, *args, roles, organisation, **kwargs):
        from alongside.programs.models import Program

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role.value, role.label) for role in roles]
        if len(roles) == 1:
            self.fields["role"].initial = roles[0].value
        self.fields["program"].queryset = Program.objects.current().filter(organisation=organisation)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Role.MEMBER and not cleaned.get("program") and self.fields["program"].queryset:
            self.add_error("program", _("Choose the program the member joins."))
        if cleaned.get("role") != Role.MEMBER and cleaned.get("program"):
            self.add_error("program", _("Only members join a program."))
        return cleaned


class EnrolmentForm(forms.Form):
    phase = forms.ModelChoiceField(label=_("Phase"), queryset=None)
    discharge_date = forms.DateField(
        label=_("Discharged from treatment on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, enrolment, **kwargs):
        super().__init__(*args, prefix=f"e{enrolment.pk}", **kwargs)
        self.fields["phase"].queryset = enrolment.program.phases.all()


# The aftercare plan's form. Its sections are data (care/plan_sections.py), so the fields are named after them:
# a list section is one textarea (one item per line), a text section one textarea, and pair and contact
# sections are rows of inputs ("triggers-0-item", "help_contacts-2-phone") with room for a few new rows.
BLANK_ROWS = 2
MAX_ROWS = 60


def plan_content_from_post(post) -> dict:
    """The plan content as typed, before validation (plan.clean_content checks it)."""
    content: dict = {}
    for section in SECTIONS:
        if section.kind == TEXT:
            content[section.key] = post.get(section.key, "")
        elif section.kind == LINES:
            content[section.key] = [line for line in post.get(section.key, "").splitlines() if line.strip()]
        else:
            try:
                rows = min(int(post.get(f"{section.key}-rows", 0)), MAX_ROWS)
            except ValueError:
                rows = 0
            parts = ("item", "response") if section.kind == PAIRS else ("name", "phone", "note")
            items = []
            for index in range(rows):
                item = {part: post.get(f"{section.key}-{index}-{part}", "") for part in parts}
                items.append(item)
            # Empty rows are dropped here; a row's number in an error message still counts from the form.
            while items and not any(str(value).strip() for value in items[-1].values()):
                items.pop()
            content[section.key] = items
    return content


def plan_rows(content: dict, sections, errors: dict) -> list[dict]:
    """What the edit template needs for each section: its current value(s), rows with blanks to add more, and
    its error messages."""
    shown = []
    for section in sections:
        value = content.get(section.key)
        entry = {"section": section, "errors": errors.get(section.key, [])}
        if section.kind == LINES:
            entry["text"] = "\n".join(value or [])
        elif section.kind in (PAIRS, CONTACTS):
            rows = list(value or [])
            blank = {"item": "", "response": ""} if section.kind == PAIRS else {"name": "", "phone": "", "note": ""}
            rows += [dict(blank) for _ in range(BLANK_ROWS)]
            entry["rows"] = [{"index": index, **row} for index, row in enumerate(rows)]
            entry["row_count"] = len(rows)
        else:
            entry["text"] = value or ""
        shown.append(entry)
    return shown
