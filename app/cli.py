"""Operator commands: `python -m app <command>`. Each domain adds its own subcommand here."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from app.queue_worker import add_worker_command
from app.seed.command import add_seed_command
from app.users.commands import add_user_commands

Command = Callable[[argparse.Namespace], Awaitable[int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    # Each domain module registers its subcommands here with
    # `commands.add_parser(...).set_defaults(handler=<async function taking the Namespace>)`.
    add_seed_command(commands)
    add_user_commands(commands)
    add_worker_command(commands)
    del commands
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Command = args.handler
    return asyncio.run(command(args))


if __name__ == "__main__":
    sys.exit(main())
