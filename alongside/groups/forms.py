"""Forms of the group pages. They only collect what was typed; groups/membership.py decides what is valid, so
the rules (and their messages) live in one place for the pages and the API."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.groups.membership import GROUP_FIELDS, MAX_MUTE
from alongside.groups.models import Group, GroupAccess, GroupFormat, MembershipRole

# What only the group's insiders see, so a manager who is not inside (an org admin) neither sees nor changes it.
INSIDE_FIELDS = ("address", "video_url")


class GroupForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, empty_label=None)
    name = forms.CharField(label=_("Name"), max_length=120)
    purpose = forms.CharField(
        label=_("Purpose"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the group is for and who it suits. Everyone in the organisation can read this."),
    )
    topic = forms.CharField(label=_("Topic"), max_length=80, required=False)
    access = forms.ChoiceField(label=_("Joining"), choices=GroupAccess.choices, widget=forms.RadioSelect)
    listed = forms.BooleanField(
        label=_("List it in the group directory"),
        required=False,
        help_text=_("An unlisted group is known only to its members; its facilitators add people themselves."),
    )
    capacity = forms.IntegerField(
        label=_("Places"), required=False, help_text=_("Most members at once. Leave it empty for no limit.")
    )
    format = forms.ChoiceField(label=_("Where it meets"), choices=GroupFormat.choices, widget=forms.RadioSelect)
    address = forms.CharField(
        label=_("Address"),
        max_length=300,
        required=False,
        help_text=_("Shown only to the group's members and facilitators."),
    )
    video_url = forms.CharField(
        label=_("Video link"),
        max_length=500,
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url"}),
        help_text=_("Starts with https://. Shown only to the group's members and facilitators."),
    )

    def __init__(self, *args, organisations=None, inside: bool = True, **kwargs):
        """`organisations`: where the person may create a group (a choice only when there are several; none
        when editing). `inside`: whether the person sees the group's address and video link."""
        super().__init__(*args, **kwargs)
        if organisations is None or len(organisations) < 2:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations
        if not inside:
            for name in INSIDE_FIELDS:
                del self.fields[name]

    @staticmethod
    def initial_for(group: Group) -> dict:
        return {name: getattr(group, name) for name in GROUP_FIELDS}

    def group_fields(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name in GROUP_FIELDS}


class MuteForm(forms.Form):
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=MAX_MUTE.days)
    reason = forms.CharField(label=_("Reason (the member sees it)"), max_length=300)


class RemoveForm(forms.Form):
    reason = forms.CharField(label=_("Reason (the member sees it)"), max_length=300)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("decline", _("Decline"))])
    reason = forms.CharField(label=_("Reason, if you decline (they see it)"), max_length=300, required=False)


class AddPersonForm(forms.Form):
    person = forms.ModelChoiceField(
        label=_("Someone you know here"), queryset=None, required=False, empty_label=_("Choose a person")
    )
    email = forms.EmailField(
        label=_("Or their e-mail address"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label=_("As"), choices=MembershipRole.choices, initial=MembershipRole.MEMBER, widget=forms.RadioSelect
    )

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = lambda person: person.display_name

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("person") and not cleaned.get("email"):
            raise forms.ValidationError(_("Choose a person or give their e-mail address."))
        return cleaned
