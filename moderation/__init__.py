"""Advertising and spam: polite warnings, reports to the social worker, appeals; never removal."""
