"""an open vote's count line in each group: when the next is due and the count it last said

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vote_count_line",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("said", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["consultation_id"], ["consultation.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["chat_group.id"]),
        sa.PrimaryKeyConstraint("consultation_id", "group_id"),
    )
    op.create_index(op.f("ix_vote_count_line_due_at"), "vote_count_line", ["due_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_vote_count_line_due_at"), table_name="vote_count_line")
    op.drop_table("vote_count_line")
