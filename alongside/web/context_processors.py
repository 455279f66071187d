from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from alongside.accounts import two_factor


def navigation(request):
    """The header's links, adapted to the roles the signed-in person holds."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if two_factor.required_for(user) and not user.is_verified():
        return {"nav_items": []}  # nothing is reachable before the second factor
    items = []
    if user.is_member:
        items.append({"label": _("My space"), "url": reverse("web:member_home")})
    if user.is_care_staff:
        items.append({"label": _("Care team"), "url": reverse("web:staff_home")})
    if user.role_set:
        items.append({"label": _("Groups"), "url": reverse("groups:directory")})
    if user.is_staff:
        items.append({"label": _("Platform admin"), "url": reverse("admin:index")})
    items.append({"label": _("Security"), "url": reverse("accounts:security")})
    current = request.path
    for item in items:
        item["current"] = current.startswith(item["url"])
    return {"nav_items": items}
