"""The sections of the aftercare and safety plan, as data.

A wellness and recovery action plan (after Copeland's WRAP), the steps of a safety plan (after Stanley and
Brown's Safety Planning Intervention, 2012) and the program's aftercare services, under plain names.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

LINES, TEXT, PAIRS, CONTACTS = "lines", "text", "pairs", "contacts"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    hint: str
    kind: str
    group: str
    item_label: str = ""  # pairs: the first column ("Trigger"); contacts: unused
    response_label: str = ""  # pairs: the second column ("What I will do")


GROUPS = (
    ("well", _("Staying well")),
    ("harder", _("When things get harder")),
    ("safety", _("My safety plan")),
    ("aftercare", _("Aftercare services")),
)
SECTIONS: tuple[Section, ...] = (
    Section("wellness_toolbox", _("Wellness toolbox"), _("Things that help me stay well or feel better."), LINES,
            "well"),
    Section("when_well", _("What I am like when I am well"), "", TEXT, "well"),
    Section("daily_maintenance", _("What I need to do every day"), _("One per line."), LINES, "well"),
    Section("some_days", _("Things I might need to do on some days"), "", LINES, "well"),
    Section("triggers", _("Triggers"), _("Events that can set me back, and my plan if they happen."), PAIRS, "well",
            _("Trigger"), _("What I will do")),
    Section("early_warning_signs", _("Early warning signs"),
            _("Subtle changes that tell me things may be getting worse. Each sign also becomes something I can "
              "tick when I check in."), PAIRS, "well", _("Sign"), _("What I will do")),
    Section("breaking_down", _("When things are breaking down"),
            _("Signs that things are much worse, and my plan."), PAIRS, "harder", _("Sign"), _("What I will do")),
    Section("crisis_signs", _("Signs that others need to take over"), "", LINES, "harder"),
    Section("crisis_supporters", _("My supporters in a crisis and what I want each to do"), "", CONTACTS,
            "harder"),
    Section("treatment_preferences", _("Medication and treatment preferences"), "", TEXT, "harder"),
    Section("crisis_helps", _("What helps, and what does not"), "", TEXT, "harder"),
    Section("post_crisis", _("After a crisis"),
            _("How I will know the crisis is over, and what I need to recover."), TEXT, "harder"),
    Section("warning_signs", _("Warning signs that a crisis may be developing"),
            _("Thoughts, images, moods, situations, behaviour."), LINES, "safety"),
    Section("coping_strategies", _("Things I can do on my own"),
            _("To take my mind off my problems without contacting anyone."), LINES, "safety"),
    Section("distractions", _("People and places that take my mind off things"), "", CONTACTS, "safety"),
    Section("help_contacts", _("People I can ask for help"), "", CONTACTS, "safety"),
    Section("professionals", _("Professionals and services I can contact in a crisis"), "", CONTACTS, "safety"),
    Section("safe_environment", _("Making my environment safe"), "", LINES, "safety"),
    Section("reason_for_living", _("The one thing most important to me and worth living for"), "", TEXT,
            "safety"),
    Section("counselling", _("Scheduled counselling"), "", LINES, "aftercare"),
    Section("peer_support", _("Peer support groups"), "", LINES, "aftercare"),
    Section("case_management", _("Case-management check-ins"), "", LINES, "aftercare"),
    Section("relapse_prevention", _("Relapse-prevention strategies"), "", LINES, "aftercare"),
)  # fmt: skip

SECTION_BY_KEY = {section.key: section for section in SECTIONS}
