"""The groups API: each part of the app contributes a router of its own."""

from ninja import Router

from alongside.groups import discussion_api, group_api, meeting_api, mentoring_api

router = Router(tags=["groups"])
router.add_router("/", group_api.router)
router.add_router("/", meeting_api.router)
router.add_router("/", discussion_api.router)
router.add_router("/", mentoring_api.router)
