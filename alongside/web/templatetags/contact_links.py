import re

from django import template

register = template.Library()


@register.filter
def tel_href(number: str) -> str:
    """'116 123' -> 'tel:116123'; keeps a leading + for international numbers."""
    number = str(number or "").strip()
    digits = re.sub(r"[^\d]", "", number)
    return f"tel:+{digits}" if number.startswith("+") else f"tel:{digits}"


@register.filter
def sms_href(number: str) -> str:
    return "sms:" + tel_href(number).removeprefix("tel:")
