"""An app whose routers fail to import, as the predecessor's did in production: the worker
must stop the whole server, never serve without them."""

from __future__ import annotations

from app.core.config import get_settings
from app.jobs.router import no_such_router  # type: ignore[attr-defined]  # ImportError
from app.main import create_app

app = create_app(get_settings())
app.include_router(no_such_router)
