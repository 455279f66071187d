"""Words of crisis in something a member wrote (their journal).

A short list of phrases that clinicians and crisis services treat as a signal to check in: thoughts of suicide,
of self-harm, of not wanting to be alive. Matching is on whole words, case-insensitive, with the usual
contractions and spacing, and is deliberately broad: a false match costs the member one look at their own
crisis screen (and, only if they chose it, a check-in from a supporter), a missed one can cost far more.
The member's words never leave the entry: the safety event records only that a match happened.
"""

from __future__ import annotations

import re

PHRASES = (
    r"kill(?:ing)? my ?self",
    r"end(?:ing)? (?:it all|my life|things)",
    r"take my (?:own )?life",
    r"suicid(?:e|al)",
    r"(?:want|wanted|wanting|wish) (?:to|i (?:was|were)) (?:die|dead)",
    r"better off dead",
    r"(?:don'?t|do not|no longer) want to (?:be alive|live|wake up)",
    r"no (?:reason|point) (?:to|in) (?:live|living|go(?:ing)? on)",
    r"can'?t go on",
    r"(?:hurt|harm|cut|cutting|hurting|harming) my ?self",
    r"self[- ]?harm(?:ing)?",
    r"overdos(?:e|ing)",
)
PATTERN = re.compile(r"\b(?:" + "|".join(PHRASES) + r")\b", re.IGNORECASE)


def found_in(text: str) -> bool:
    """Whether the text contains words of crisis (apostrophes normalised, spacing collapsed)."""
    text = " ".join((text or "").replace("\u2019", "'").split())
    return PATTERN.search(text) is not None
