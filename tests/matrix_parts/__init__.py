"""Parts of the authorization matrix kept beside it: each module adds its data to the matrix's world (`seed`)
and its rows (`web_routes`, `api_routes`). Seeds run in this order."""

from tests.matrix_parts import (
    goals_core,
    goals_growth,
    groups_core,
    groups_discussion,
    groups_meetings,
    groups_mentoring,
    interop_fhir,
    interop_imports,
    interop_rights,
)

PARTS = (
    groups_core, groups_meetings, groups_discussion, groups_mentoring, goals_core, goals_growth, interop_fhir,
    interop_imports, interop_rights,
)  # fmt: skip
