"""Imports every table so that SQLModel.metadata (and Alembic) sees the whole schema."""

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
from tickets.models import (
    ExtensionRequest,
    LabelledExample,
    PendingConfirmation,
    Ticket,
    TicketEvent,
    TicketReporter,
)
from xiaoqi.audit import AuditEntry
from xiaoqi.scheduling import JobRun

__all__ = [
    "AuditEntry",
    "ChatGroup",
    "Community",
    "Department",
    "District",
    "ExtensionRequest",
    "Grid",
    "JobRun",
    "LabelledExample",
    "Membership",
    "Message",
    "PendingConfirmation",
    "Person",
    "RoutingRule",
    "Street",
    "Ticket",
    "TicketEvent",
    "TicketReporter",
]
