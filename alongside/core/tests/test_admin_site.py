from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.test import RequestFactory

from alongside.accounts.models import User
from alongside.core.crypto import EncryptedTextField


def test_admin_site_never_shows_encrypted_text(db):
    operator = User.objects.create_superuser("op@example.org", "a long operator phrase", display_name="Op")
    request = RequestFactory().get("/admin/")
    request.user = operator
    assert User in admin.site._registry  # the check below looks at real registrations
    for model, model_admin in admin.site._registry.items():
        encrypted = {field.name for field in model._meta.get_fields() if isinstance(field, EncryptedTextField)}
        shown = set(flatten_fieldsets(model_admin.get_fieldsets(request))) | set(model_admin.get_list_display(request))
        shown |= set(model_admin.get_search_fields(request))
        assert not encrypted & shown, f"the admin site would show decrypted {model.__name__} text: {encrypted & shown}"
