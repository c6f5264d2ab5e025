"""each reporter's own rating and comment; the staff alerted about an emergency

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_reporter") as batch:
        batch.add_column(sa.Column("rating", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("comment", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "ticket_alerted",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("ticket_id", "person_id"),
    )


def downgrade() -> None:
    op.drop_table("ticket_alerted")
    with op.batch_alter_table("ticket_reporter") as batch:
        batch.drop_column("comment")
        batch.drop_column("rated_at")
        batch.drop_column("rating")
