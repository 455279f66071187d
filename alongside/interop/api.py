"""The interop API: each part (FHIR export, imports, data rights) contributes a router of its own."""

from ninja import Router

router = Router(tags=["interoperability and data rights"])
