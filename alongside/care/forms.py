from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from alongside.care.models import SHAREABLE_CATEGORIES, SUPPORT_ROLES
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
