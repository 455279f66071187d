from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def member_required(view):
    """Pages of a member's own space: signed in (else to the sign-in page) and a member (else 403)."""

    @wraps(view)
    def checked(request, *args, **kwargs):
        if not request.user.is_member:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(checked)
