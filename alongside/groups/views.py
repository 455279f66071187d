"""Group pages: the directory, a group's page, requests to join. (Extended with the rest of the group pages.)"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from alongside.groups import access, membership


@login_required
def directory(request):
    groups = access.directory(request.user).select_related("organisation")
    return render(request, "groups/directory.html", {"groups": groups})


@login_required
def group_page(request, pk):
    group = access.group_or_404(request.user, pk)
    return render(request, "groups/group.html", {"group": group, "members": membership.members(group)})


@login_required
def requests_page(request, pk):
    group = access.managed_group_or_404(request.user, pk)
    pending = group.memberships.filter(status="requested").select_related("person")
    return render(request, "groups/requests.html", {"group": group, "pending": pending})


urlpatterns = [
    path("groups/", directory, name="directory"),
    path("groups/<int:pk>/", group_page, name="group"),
    path("groups/<int:pk>/requests/", requests_page, name="requests"),
]
