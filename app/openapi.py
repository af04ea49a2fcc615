"""The committed OpenAPI document (`openapi.json` at the repository root) and the
`python -m app export-openapi` command that writes it from the code."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from app.core.config import Settings

DOCUMENT_PATH = Path("openapi.json")  # run from the repository root, where it is committed
REGENERATE = "python -m app export-openapi"


def openapi_document() -> dict[str, Any]:
    """The document create_app() serves at /openapi.json, with the default title whatever the
    environment says (APP_NAME changes only the served copy's title)."""
    from app.main import create_app

    defaults = Settings.model_fields
    settings = Settings(
        _env_file=None,
        environment="development",
        app_name=defaults["app_name"].default,
        log_level="CRITICAL",  # no "DATABASE_URL is not set" line: nothing here connects
    )
    return create_app(settings).openapi()


def render(document: dict[str, Any]) -> str:
    """The file's exact text: stable key order as FastAPI emits it, two-space indents."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def add_openapi_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export-openapi",
        help="write the OpenAPI document the code serves",
        description="Write the service's OpenAPI document as JSON (by default to openapi.json "
        "at the repository root, which is committed; regenerate it after changing a route or "
        "a schema, then the frontend's types with `npm --prefix frontend-types run generate`).",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DOCUMENT_PATH,
        help=f"where to write it ('-' for standard output; default {DOCUMENT_PATH.name})",
    )
    parser.set_defaults(handler=run_export_openapi)


async def run_export_openapi(args: argparse.Namespace) -> int:
    text = render(openapi_document())
    if str(args.output) == "-":
        print(text, end="")
        return 0
    args.output.write_text(text, encoding="utf-8")
    operations = sum(len(ops) for ops in json.loads(text)["paths"].values())
    print(f"Wrote {args.output} ({operations} operations)")
    return 0
