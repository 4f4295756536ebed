"""Holdout tuners: each chooses a family's defaults on the training split cut in two (holdout.py)."""
