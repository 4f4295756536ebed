"""Keeping the project: its data files, its timings, its GPU check."""
