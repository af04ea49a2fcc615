"""`python -m app serve`: the web server's start command."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

from app.core.commands import EXIT_UNUSABLE, CommandError, project_file
from app.server.settings import ServerSettingError, server_settings


def add_serve_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="the web server's start command: check its settings, then run Gunicorn",
        description="Check PORT, WEB_CONCURRENCY and the GUNICORN_* settings as gunicorn.conf.py "
        "does, then become `gunicorn -c gunicorn.conf.py app.main:app` (the same process, so "
        "signals reach Gunicorn's master and the exit code is Gunicorn's). Arguments after "
        "`serve` are passed to Gunicorn. Exit code 2, with one line naming the variable, when "
        "a setting cannot be used.",
        allow_abbrev=False,
    )
    parser.set_defaults(handler=run_serve, passthrough=[])


async def run_serve(args: argparse.Namespace) -> NoReturn:
    try:
        server_settings()
    except ServerSettingError as exc:
        raise CommandError(str(exc), EXIT_UNUSABLE) from None
    config = project_file("gunicorn.conf.py", "serve")
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(config), "app.main:app"]
    # Exec, not a child: the platform's SIGTERM reaches Gunicorn's master itself, and its exit
    # code is the service's. No shell: the operator's arguments reach Gunicorn as they are.
    os.execvp(gunicorn[0], [*gunicorn, *args.passthrough])  # noqa: S606
