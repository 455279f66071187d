"""(filled in with this part of the goals app)"""


def seed(w) -> None:
    pass


def web_routes() -> dict:
    return {}


def api_routes() -> dict:
    return {}
