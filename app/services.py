"""Every service of the app: the kit's (app/core/services.py) and those a domain owns (the live
events hub, file storage), built once by create_app() and kept on `app.state.services`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from app.core.services import CoreServices
from app.events.hub import EventHub
from app.files.storage import Storage, make_storage


@dataclass(eq=False)
class Services(CoreServices):
    events: EventHub

    @cached_property
    def storage(self) -> Storage:
        """Made on first use from the settings (it opens nothing)."""
        return make_storage(self.settings)


def services_of(app: Starlette) -> Services:
    services: Services = app.state.services
    return services


def services(connection: HTTPConnection) -> Services:
    """The services of the app serving this request."""
    return services_of(connection.app)
