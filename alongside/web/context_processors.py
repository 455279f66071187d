from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request):
    """The header's links, adapted to the roles the signed-in person holds."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    if user.is_member:
        items.append({"label": _("My space"), "url": reverse("web:member_home")})
    if user.is_care_staff:
        items.append({"label": _("Care team"), "url": reverse("web:staff_home")})
    if user.is_staff:
        items.append({"label": _("Platform admin"), "url": reverse("admin:index")})
    current = request.path
    for item in items:
        item["current"] = current.startswith(item["url"])
    return {"nav_items": items}
