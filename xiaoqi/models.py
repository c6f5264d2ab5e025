"""Imports every table so that SQLModel.metadata (and Alembic) sees the whole schema."""

from consult.models import Ballot, Consultation, ConsultGroup, FollowUp, Opinion, Participation, Vote
from faq.models import FaqQuestion
from groups.messages import Message
from groups.models import (
    ChatGroup,
    Community,
    Department,
    District,
    Grid,
    Membership,
    Person,
    RoutingRule,
    Street,
)
from moderation.models import ModerationCase, ModerationExempt
from notices.models import Notice, NoticeRun
from tickets.models import (
    ExtensionRequest,
    LabelledExample,
    PendingConfirmation,
    Ticket,
    TicketEvent,
    TicketReporter,
)
from web.models import ApiClient, ConsoleSession, SignInCode
from xiaoqi.audit import AuditEntry
from xiaoqi.leases import Lease
from xiaoqi.limits import RateCounter
from xiaoqi.outbox import OutboxMessage
from xiaoqi.scheduling import JobRun

__all__ = [
    "ApiClient",
    "AuditEntry",
    "Ballot",
    "ChatGroup",
    "Community",
    "ConsoleSession",
    "ConsultGroup",
    "Consultation",
    "Department",
    "District",
    "ExtensionRequest",
    "FaqQuestion",
    "FollowUp",
    "Grid",
    "JobRun",
    "LabelledExample",
    "Lease",
    "Membership",
    "Message",
    "ModerationCase",
    "ModerationExempt",
    "Notice",
    "NoticeRun",
    "Opinion",
    "OutboxMessage",
    "Participation",
    "PendingConfirmation",
    "Person",
    "RateCounter",
    "RoutingRule",
    "SignInCode",
    "Street",
    "Ticket",
    "TicketEvent",
    "TicketReporter",
    "Vote",
]
