"""Which bot account serves a group or a person: the send queue asks, so that each account sends
only into its own groups."""

from __future__ import annotations

from sqlmodel import Session, select

from groups.models import ChatGroup, Membership


class GroupAccounts:
    """core.outbox.Accounts read from the registry's groups."""

    def of_group(self, session: Session, group_id: str) -> str | None:
        group = session.get(ChatGroup, group_id)
        return group.account if group is not None else None

    def of_person(self, session: Session, person_id: str) -> str | None:
        return session.exec(
            select(ChatGroup.account)
            .join(Membership, Membership.group_id == ChatGroup.id)  # type: ignore[arg-type]
            .where(Membership.person_id == person_id, ChatGroup.account.is_not(None))  # type: ignore[union-attr]
            .order_by(ChatGroup.id)
            .limit(1)
        ).first()
