"""One-off questions about a model, answered by a script (results in RESULTS.md)."""
