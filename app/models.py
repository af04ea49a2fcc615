"""Every domain's models, imported in one place so Alembic and the tests see the whole schema."""

from app.auth.models import RefreshToken
from app.core.models import Base
from app.users.models import User

__all__ = ["Base", "RefreshToken", "User"]
