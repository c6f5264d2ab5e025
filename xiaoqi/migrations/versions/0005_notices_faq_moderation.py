"""notices (tagged outbox rows), forwarded questions, moderation, welcomes and nickname reminders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_group") as batch:
        batch.add_column(sa.Column("rules", sa.Text(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("tag", sa.String(), nullable=True))
        batch.create_index(batch.f("ix_outbox_tag"), ["tag"])
    with op.batch_alter_table("membership") as batch:
        batch.add_column(sa.Column("welcomed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("nickname_reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("nickname_reminders", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("scope_kind", sa.String(length=32), nullable=False),
        sa.Column("scope_id", sa.String(), nullable=False),
        sa.Column("scope_name", sa.String(), nullable=False),
        sa.Column("repeat", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_notice_author_id"), "notice", ["author_id"])
    op.create_index(op.f("ix_notice_next_at"), "notice", ["next_at"])
    op.create_table(
        "notice_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("groups", sa.Integer(), nullable=False),
        sa.Column("check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_notice_run_notice_id"), "notice_run", ["notice_id"])
    op.create_index(op.f("ix_notice_run_check_at"), "notice_run", ["check_at"])
    op.create_table(
        "faq_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=True),
        sa.Column("community_id", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("guess", sa.String(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("category", sa.String(), nullable=True),
        sa.Column("learned_by", sa.String(), nullable=True),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["chat_group.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(op.f("ix_faq_question_community_id"), "faq_question", ["community_id"])
    op.create_index(op.f("ix_faq_question_state"), "faq_question", ["state"])
    op.create_table(
        "moderation_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("appeal", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["group_id"], ["chat_group.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(op.f("ix_moderation_case_person_id"), "moderation_case", ["person_id"])
    op.create_index(op.f("ix_moderation_case_at"), "moderation_case", ["at"])
    op.create_index(op.f("ix_moderation_case_state"), "moderation_case", ["state"])
    op.create_table(
        "moderation_exempt",
        sa.Column("person_id", sa.String(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )


def downgrade() -> None:
    for table in (
        "moderation_exempt",
        "moderation_case",
        "faq_question",
        "notice_run",
        "notice",
    ):
        op.drop_table(table)
    with op.batch_alter_table("membership") as batch:
        batch.drop_column("nickname_reminders")
        batch.drop_column("nickname_reminded_at")
        batch.drop_column("welcomed_at")
    with op.batch_alter_table("chat_group") as batch:
        batch.drop_column("rules")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index(batch.f("ix_outbox_tag"))
        batch.drop_column("tag")
