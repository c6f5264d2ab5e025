"""consultations: discussion, open and secret ballots, follow-up tickets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consultation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("scope_kind", sa.String(length=32), nullable=False),
        sa.Column("scope_id", sa.String(), nullable=False),
        sa.Column("scope_name", sa.String(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("per_household", sa.Boolean(), nullable=False),
        sa.Column("quorum", sa.Float(), nullable=True),
        sa.Column("opened_by", sa.String(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("discussion_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summarised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["opened_by"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_consultation_state"), "consultation", ["state"])
    op.create_index(op.f("ix_consultation_deadline"), "consultation", ["deadline"])
    op.create_table(
        "consult_group",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["chat_group.id"]),
        sa.PrimaryKeyConstraint("consultation_id", "group_id"),
    )
    op.create_table(
        "opinion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(op.f("ix_opinion_consultation_id"), "opinion", ["consultation_id"])
    op.create_table(
        "vote",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=True),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("consultation_id", "voter_key"),
    )
    op.create_table(
        "participation",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("consultation_id", "voter_key"),
    )
    op.create_table(
        "ballot",
        sa.Column("receipt_hash", sa.String(length=64), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.PrimaryKeyConstraint("receipt_hash"),
    )
    op.create_index(op.f("ix_ballot_consultation_id"), "ballot", ["consultation_id"])
    op.create_table(
        "consult_follow_up",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("announced_event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index(op.f("ix_consult_follow_up_consultation_id"), "consult_follow_up", ["consultation_id"])


def downgrade() -> None:
    for table in (
        "consult_follow_up",
        "ballot",
        "participation",
        "vote",
        "opinion",
        "consult_group",
        "consultation",
    ):
        op.drop_table(table)
