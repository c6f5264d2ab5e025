"""Petitions become tickets: intake, routing, deadlines, life cycle, ratings."""
