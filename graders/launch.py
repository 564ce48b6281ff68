"""The ``nngrade`` command: a check goes to a warm grader when one answers, everything
else (and a check where none answers) to :func:`graders.cli.main`, as before.

Only the standard library and :mod:`graders.warm` are imported before that choice, so a
warm check costs an interpreter start, not nngrade's imports.
"""

from __future__ import annotations

import sys

from graders.warm import client
from graders.warm.key import server_key


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if client.wanted(args):
        key = server_key()
        served = client.run(args, key)
        if served is not None:
            return served
        client.start_server(key)  # for the next check
    from graders.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
