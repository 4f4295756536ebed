"""minigen benchmarks (see benchmarks/README.md); run with `python -m benchmarks.run` or `minigen bench`."""
