"""The goals API: each part of the app contributes a router of its own."""

from ninja import Router

from alongside.goals import goal_api, growth_api, review_api

router = Router(tags=["goals"])
router.add_router("/", goal_api.router)
router.add_router("/", growth_api.router)
router.add_router("/", review_api.router)
