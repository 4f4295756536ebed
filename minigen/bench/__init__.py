"""minigen benchmarks (see benchmarks/README.md in the repository); run with `minigen bench` or
`python -m minigen.bench.run`. The top layer, with cli and tour: nothing else in minigen imports it."""
