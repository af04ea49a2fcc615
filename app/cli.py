"""Operator commands: `python -m app <command>` (`python -m app <command> --help` for each).

Each domain registers its subcommands in its own commands.py; adding one is a block there and,
for a new module, a line in COMMANDS below. Shared helpers (settings, a database session, the
exit codes) are in app/core/cli.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from app.auth.commands import add_auth_commands
from app.core.cli import CommandError, add_core_commands
from app.files.commands import add_file_commands
from app.openapi import add_openapi_command
from app.queue_worker import add_worker_command
from app.seed.command import add_seed_command
from app.users.commands import add_user_commands

Command = Callable[[argparse.Namespace], Awaitable[int]]

# Each adds its subcommands with
# `commands.add_parser(...).set_defaults(handler=<async function taking the Namespace>)`.
COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    add_core_commands,
    add_seed_command,
    add_user_commands,
    add_auth_commands,
    add_openapi_command,
    add_file_commands,
    add_worker_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="HireMeBahamas operator commands. Exit codes: 0 done, 1 refused or failed, "
        "2 bad arguments, unusable configuration or an unreachable database.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Command = args.handler
    try:
        return asyncio.run(command(args))
    except CommandError as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
