"""Community consultations: collecting residents' opinions, grouping them, and votes."""
