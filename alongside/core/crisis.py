"""Default emergency numbers and crisis lines by country.

Organisations start from these defaults and may edit them; they must be verified locally before deployment.
Alongside is not an emergency service: every page that shows these says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class CrisisLine:
    name: str
    phone: str = ""  # number to call, as people write it ("116 123"); links strip the spaces
    text: str = ""  # number to text, if the line takes text messages
    note: str = ""  # when or for whom, e.g. "free, 24/7"

    def as_dict(self) -> dict[str, str]:
        return {key: str(value) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class CountryDefaults:
    code: str
    name: str
    emergency_number: str  # the number to dial first
    emergency_note: str = ""  # e.g. an alternative number
    lines: tuple[CrisisLine, ...] = field(default_factory=tuple)


_EU_COUNTRIES = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus",
    "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France",
    "DE": "Germany", "GR": "Greece", "HU": "Hungary", "IT": "Italy", "LV": "Latvia",
    "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta", "NL": "Netherlands", "PL": "Poland",
    "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia", "ES": "Spain",
    "SE": "Sweden",
}  # fmt: skip

COUNTRIES: dict[str, CountryDefaults] = {
    "US": CountryDefaults(
        "US", "United States", "911",
        lines=(CrisisLine("988 Suicide & Crisis Lifeline", phone="988", text="988", note=_("call or text, 24/7")),),
    ),
    "CA": CountryDefaults(
        "CA", "Canada", "911",
        lines=(CrisisLine("9-8-8 Suicide Crisis Helpline", phone="988", text="988", note=_("call or text, 24/7")),),
    ),
    "GB": CountryDefaults(
        "GB", "United Kingdom", "999",
        lines=(
            CrisisLine("Samaritans", phone="116 123", note=_("free, 24/7")),
            CrisisLine("NHS 111 (England)", phone="111", note=_("choose option 2 for mental health")),
        ),
    ),
    "IE": CountryDefaults(
        "IE", "Ireland", "112", emergency_note=_("or 999"),
        lines=(CrisisLine("Samaritans", phone="116 123", note=_("free, 24/7")),),
    ),
    "AU": CountryDefaults(
        "AU", "Australia", "000",
        lines=(CrisisLine("Lifeline", phone="13 11 14", note=_("24/7")),),
    ),
    # Elsewhere in the EU the emergency number is 112; each organisation sets its own crisis line.
    **{code: CountryDefaults(code, name, "112") for code, name in _EU_COUNTRIES.items()},
}  # fmt: skip


def defaults_for(country_code: str) -> CountryDefaults:
    """The defaults for a country; KeyError names countries Alongside has no defaults for."""
    code = country_code.upper()
    if code not in COUNTRIES:
        raise KeyError(f"no crisis defaults for country {country_code!r}")
    return COUNTRIES[code]


def country_choices() -> list[tuple[str, str]]:
    return sorted(((code, d.name) for code, d in COUNTRIES.items()), key=lambda item: item[1])
