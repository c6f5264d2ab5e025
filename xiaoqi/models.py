"""Imports every table so that SQLModel.metadata (and Alembic) sees the whole schema."""

from consult.models import Ballot, Consultation, ConsultGroup, FollowUp, Opinion, Participation, Vote
from core.audit import AuditEntry
from core.leases import Lease
from core.limits import RateCounter
from core.outbox import OutboxMessage
from core.scheduling import JobRun
from faq.models import FaqQuestion
from groups.messages import Message
from groups.models import (
    ChatGroup,
    Community,
    Department,
    District,
    Grid,
    Membership,
    ModerationExempt,
    Person,
    RoutingRule,
    Street,
)
from moderation.models import ModerationCase
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
