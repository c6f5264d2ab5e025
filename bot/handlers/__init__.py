"""Every chat handler module contributes a Router; `build_router` joins them."""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from bot.handlers import basic, community, consult, moderation, notices, tickets

    router = Router()
    router.include(basic.router)
    router.include(moderation.router)  # first: an advert is never a petition or a question
    router.include(notices.router)
    router.include(consult.router)  # before tickets: "投票 1" and "意见 …" are not petitions
    router.include(tickets.router)
    router.include(community.router)  # after tickets: questions, then a nickname reminder if nothing else
    return router
