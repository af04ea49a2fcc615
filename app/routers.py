"""Every domain's router, imported explicitly: a router that fails to import stops the app
from starting instead of silently vanishing."""

from fastapi import APIRouter

api_router = APIRouter()
