from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.audit.models import AuditAction


class AuditSearchForm(forms.Form):
    who = forms.CharField(label=_("Who (e-mail contains)"), required=False, max_length=254)
    member = forms.CharField(label=_("Whose data (name contains)"), required=False, max_length=254)
    action = forms.ChoiceField(label=_("What"), required=False, choices=[("", _("Anything")), *AuditAction.choices])
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned
