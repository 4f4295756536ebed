"""`python -B -m minigen.learn.worker NAME FILE`: check one exercise, print its result as one
line of JSON (what `minigen learn check` runs, once per exercise, each in a fresh process).

Whatever the learner's code prints is swallowed, so that the result is the only output."""
import contextlib
import io
import json
import sys

from minigen.learn.exercises import BY_NAME
from minigen.learn.workbook import check_file


def main(name, path):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        result = check_file(BY_NAME[name], path)
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
