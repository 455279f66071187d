"""(placeholder until this slice is built)"""

from ninja import Router

router = Router()
