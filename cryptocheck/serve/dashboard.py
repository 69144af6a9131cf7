"""placeholder"""
from starlette.routing import Route


def routes() -> list[Route]:
    return []
