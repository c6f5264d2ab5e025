"""Open311 GeoReport v2 (JSON only) for a 12345 hotline platform: services, tickets, changes.

The services are public; every other call needs an API key (only its sha256 is stored), and a key
reads only the tickets its system filed, unless it is the district's hub (`read_all`, access.api).

Nothing here shows a ticket's details as reported (Ticket.details) or staff notes. A ticket reads as its
category and a short topic without names, places or numbers; only the system that filed it gets back
the description it sent, with phone and ID-card numbers masked."""

from __future__ import annotations

from web.open311.api import router
from web.open311.public import public_description
from web.open311.services import CATEGORY_OF, CODE_OF

__all__ = ["CATEGORY_OF", "CODE_OF", "public_description", "router"]
