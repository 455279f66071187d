"""What the crisis screen shows, in the order the crisis guidance sets:

1. "If you are in immediate danger, call <emergency number> now."
2. The crisis lines of the person's organisations (or of the deployment's country for visitors).
3. For a member: their own plan's coping strategies and the people they listed.
4. For a member: "Ask my team to reach out", when someone on their team receives safety alerts.

Every organisation has an emergency number, and an organisation without crisis lines of its own falls back to
its country's defaults, so nobody is ever shown a screen without a number to call.
"""

from __future__ import annotations

from django.conf import settings

from alongside.accounts.models import Organisation
from alongside.core import crisis as crisis_defaults


def _defaults_source(country: str, title: str = "") -> dict:
    try:
        defaults = crisis_defaults.defaults_for(country)
    except KeyError:
        defaults = crisis_defaults.defaults_for(settings.DEFAULT_COUNTRY)
    return {
        "title": title or defaults.name,
        "emergency_number": defaults.emergency_number,
        "emergency_note": str(defaults.emergency_note),
        "lines": [line.as_dict() for line in defaults.lines],
    }


def lines_for(person, *, within=None) -> list[dict]:
    """Emergency numbers and crisis lines for this person: one block per organisation they belong to (only
    those in `within`, when a supporter prints a member's plan: other organisations are not theirs to see)."""
    sources = []
    if person is not None and person.is_authenticated:
        organisations = Organisation.objects.filter(roles__user=person).distinct().order_by("name")
        if within is not None:
            organisations = organisations.filter(pk__in=within)
        for organisation in organisations:
            source = {
                "title": organisation.name,
                "emergency_number": organisation.emergency_number,
                "emergency_note": organisation.emergency_note,
                "lines": [line for line in organisation.crisis_lines if line.get("name")],
            }
            fallback = _defaults_source(organisation.country)
            source["emergency_number"] = source["emergency_number"] or fallback["emergency_number"]
            if not source["lines"]:
                source["lines"] = fallback["lines"]
            sources.append(source)
    if not sources:
        sources.append(_defaults_source(settings.DEFAULT_COUNTRY))
    return sources
