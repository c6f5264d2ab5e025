"""The ground every other package stands on: settings, database, clock, events, send queue, scheduling, leases, audit, privacy and record numbers."""
