"""Every chat handler module contributes a Router; `build_router` joins them."""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from bot.handlers import basic, tickets

    router = Router()
    router.include(basic.router)
    router.include(tickets.router)
    return router
