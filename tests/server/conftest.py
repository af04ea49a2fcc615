"""Tests that boot the real server (Gunicorn + gunicorn.conf.py) as a subprocess."""

from tests.server_process import server_factory  # noqa: F401 - the fixture, shared
