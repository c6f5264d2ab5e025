"""Notices from social workers to one group, a community, a street or the whole district."""
