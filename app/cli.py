"""Operator commands: `python -m app <command>` (`python -m app <command> --help` for each).

Each domain registers its subcommands in its own commands.py; adding one is a block there and,
for a new module, an entry in COMMANDS below. Shared helpers (settings, a database session, the
exit codes) are in app/core/commands.py.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from app.core.commands import CommandError

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]

# Each "module:function" adds its subcommands with
# `commands.add_parser(...).set_defaults(handler=<async function taking the Namespace>)`.
# They are imported in this order only until the command asked for is registered: the domains
# import FastAPI, SQLAlchemy and their schemas (seconds of CPU), which `serve`, the web start
# command that runs before Gunicorn on every boot, and `migrate` do not need.
COMMANDS = (
    "app.core.commands:add_migrate_command",
    "app.server.commands:add_serve_command",
    "app.seed.command:add_seed_command",
    "app.users.commands:add_user_commands",
    "app.auth.commands:add_auth_commands",
    "app.openapi:add_openapi_command",
    "app.files.commands:add_file_commands",
    "app.queue.worker:add_worker_command",
)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser with every command, or, when argv names one, with those up to its own."""
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="HireMeBahamas operator commands. Exit codes: 0 done, 1 refused or failed, "
        "2 bad arguments, unusable configuration or an unreachable database.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for registration in COMMANDS:
        module, function = registration.split(":")
        getattr(importlib.import_module(module), function)(commands)
        if argv and argv[0] in commands.choices:
            break
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "passthrough"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.passthrough = extra
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
