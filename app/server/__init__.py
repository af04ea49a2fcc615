"""The web server process: its settings, the `serve` command, the Gunicorn worker and what an
instance reports at start."""
