from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.signals.models import Outcome


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("What happened"),
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happened.")},
    )
    note = forms.CharField(
        label=_("Note (for the care team)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
