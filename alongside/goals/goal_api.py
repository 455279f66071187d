"""(placeholder until this part is built)"""

from ninja import Router

router = Router()
