"""The runner: any `minigen` command with the CuPy stand-in installed, outside pytest.

    python -m tests.cupy_stand_in minigen tour --quick --device cuda --out /tmp/tour-cuda
    python -m tests.cupy_stand_in minigen train gan --data 8gaussians --steps 50 --device cuda

Run it from the repository's root (``tests`` is found there as a namespace package). ``import
cupy`` then gives the stand-in (NumPy underneath, CuPy's refusals on top), so ``--device cuda``
runs minigen's GPU path on this machine; the transfers it counted are printed to stderr at the end.
"""
import sys

from tests import cupy_stand_in

USAGE = "usage: python -m tests.cupy_stand_in minigen ARGS...   (any `minigen` command)"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] != "minigen":
        print(USAGE, file=sys.stderr)
        return 2
    cupy_stand_in.install()
    from minigen import backend, cli
    backend._cupy = None               # forget a real CuPy, should anything have imported it
    backend._generators.clear()
    try:
        return cli.main(argv[1:])
    finally:
        c = cupy_stand_in.counts
        print(f"cupy stand-in: {c['h2d']} host->device copies, {c['d2h']} device->host copies, "
              f"{c['sync']} synchronising reads", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
