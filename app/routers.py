"""Every domain's router, imported explicitly: a router that fails to import stops the app
from starting instead of silently vanishing."""

from fastapi import APIRouter

from app.auth.router import router as auth_router
from app.users.router import router as users_router

api_router = APIRouter()
api_router.include_router(auth_router, prefix="/auth")
api_router.include_router(users_router, prefix="/users")
