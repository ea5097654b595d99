"""Command line: `cer settle CASE.json [-o OUT.json]` settles a case file (ENGINE_IO.md).

The result goes to stdout or, with -o, to a file written only once the case has been settled.
A case that cannot be settled exits with status 2 and one line on stderr naming the key, the
hour and the problem; no traceback, no output file.
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from cercalc.case import CaseError, load_case, result_to_json, settle_case

EXIT_OK = 0
EXIT_BAD_CASE = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `cer` command with `argv` (default: the process arguments); return the status."""
    parser = argparse.ArgumentParser(prog="cer", description="CerCollettiva settlement engine.")
    commands = parser.add_subparsers(dest="command", required=True)
    settle_parser = commands.add_parser("settle", help="settle a case file (ENGINE_IO.md)")
    settle_parser.add_argument("case", type=Path, help="the case, a JSON file")
    settle_parser.add_argument("-o", "--output", type=Path, help="write the result to this file")
    arguments = parser.parse_args(argv)

    try:
        text = result_to_json(settle_case(load_case(arguments.case)))
    except CaseError as error:
        sys.stderr.write(f"cer settle: {arguments.case}: {error}\n")
        return EXIT_BAD_CASE
    if arguments.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        arguments.output.write_text(text, encoding="utf-8")
    except OSError as error:
        sys.stderr.write(f"cer settle: {arguments.output}: cannot be written ({error.strerror})\n")
        return EXIT_BAD_CASE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
