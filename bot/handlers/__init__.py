"""Every chat handler module contributes a Router; `build_router` joins them."""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from bot.handlers import (
        basic,
        community,
        consult,
        moderation,
        notices,
        petitions,
        ticket_steps,
        ticket_views,
    )

    router = Router()
    router.include(basic.router)
    router.include(moderation.router)  # first: an advert is never a petition or a question
    router.include(notices.router)
    router.include(consult.router)  # before petitions: "投票 1" and "意见 …" are not petitions
    router.include(petitions.router)  # tickets: intake and residents' commands, then staff's
    router.include(ticket_views.router)
    router.include(ticket_steps.router)
    router.include(community.router)  # after tickets: questions, then a nickname reminder if nothing else
    return router
