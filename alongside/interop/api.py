"""The interop API: each part (FHIR export, imports, data rights) contributes a router of its own."""

from ninja import Router

from alongside.interop import rights_api

router = Router(tags=["interoperability and data rights"])
router.add_router("/", rights_api.router)
