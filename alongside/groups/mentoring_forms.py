"""Forms of peer-mentor matching. They only read input; `mentoring.py` checks it again and decides."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.groups.models import Availability, Gender, LivedExperience

LANGUAGES_HELP = _("Separate languages with commas, for example: English, Spanish")


class MentorProfileForm(forms.Form):
    languages = forms.CharField(label=_("Languages I speak"), max_length=400, required=False, help_text=LANGUAGES_HELP)
    lived_experience = forms.MultipleChoiceField(
        label=_("Lived experience I am willing to share"),
        choices=LivedExperience.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    availability = forms.MultipleChoiceField(
        label=_("When I am available"),
        choices=Availability.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    gender = forms.ChoiceField(
        label=_("My gender"),
        choices=[("", _("Prefer not to say")), *Gender.choices],
        required=False,
        help_text=_("Only used for members who ask for a mentor of a particular gender."),
    )
    capacity = forms.IntegerField(label=_("People I can mentor at once"), min_value=0, max_value=30)
    accepting = forms.BooleanField(label=_("I am taking on new people"), required=False)
    about = forms.CharField(
        label=_("About me"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A few words the staff who match mentors will read."),
    )

    @classmethod
    def initial_from(cls, profile) -> dict:
        if profile is None:
            return {"capacity": 5, "accepting": True}
        return {
            "languages": ", ".join(profile.languages),
            "lived_experience": profile.lived_experience,
            "availability": profile.availability,
            "gender": profile.gender,
            "capacity": profile.capacity,
            "accepting": profile.accepting,
            "about": profile.about,
        }


class MentorRequestForm(forms.Form):
    languages = forms.CharField(
        label=_("Languages my mentor should speak"),
        max_length=400,
        required=False,
        help_text=_("Separate languages with commas. Leave empty if any language I read here is fine."),
    )
    lived_experience = forms.MultipleChoiceField(
        label=_("Experience I would like my mentor to share"),
        choices=LivedExperience.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    availability = forms.MultipleChoiceField(
        label=_("When I could meet or talk"),
        choices=Availability.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    gender_preference = forms.ChoiceField(
        label=_("I would prefer a mentor who is"),
        choices=[("", _("No preference")), *Gender.choices],
        widget=forms.RadioSelect,
        required=False,
        initial="",
    )
    note = forms.CharField(
        label=_("Anything else the staff matching you should know"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class ApproveMatchForm(forms.Form):
    mentor = forms.IntegerField(widget=forms.HiddenInput)
