"""Xiaoqi core: settings, storage, clock, scheduling and CLI wiring."""
