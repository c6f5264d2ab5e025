"""The district registry, group members and message capture."""
