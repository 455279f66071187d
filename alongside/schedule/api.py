from ninja import Router

router = Router(tags=["appointments and routines"])
