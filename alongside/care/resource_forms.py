"""Forms of the resources library. They only collect what was typed; care/resources.py decides what is valid,
so the rules (and their messages) live in one place for the pages and the API."""

from django import forms
from django.utils.translation import gettext_lazy as _

from alongside.care.models import Resource


class ResourceForm(forms.Form):
    title = forms.CharField(label=_("Title"))
    summary = forms.CharField(label=_("Summary"), required=False, help_text=_("One or two sentences, shown in lists."))
    url = forms.CharField(
        label=_("Link"),
        required=False,
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "url"}),
        help_text=_("A web address starting with https://. Leave it empty for a text of your own."),
    )
    body = forms.CharField(
        label=_("Text"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Write the resource here if it is not on a web page. Line breaks are kept."),
    )
    topics = forms.CharField(
        label=_("Topics"), required=False, help_text=_("Separated by commas, for example: sleep, relapse prevention.")
    )

    @classmethod
    def initial_for(cls, resource: Resource) -> dict:
        return {field: getattr(resource, field) for field in ("title", "summary", "url", "body", "topics")}


class AssignResourceForm(forms.Form):
    resource = forms.ModelChoiceField(label=_("Resource"), queryset=Resource.objects.none())

    def __init__(self, *args, resources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = resources
