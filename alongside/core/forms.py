"""Small helpers shared by the apps' forms."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def add_domain_errors(form, error: ValidationError, field_map: dict[str, str | None] | None = None) -> None:
    """Show a domain function's ValidationError on the form: each message beside the field it names (through
    `field_map` where the names differ), the rest at the top of the form."""
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for key, messages in error.message_dict.items():
        field = field_map.get(key, key)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
