"""Every domain's models, imported in one place so Alembic and the tests see the whole schema."""

from app.alerts.models import JobAlert, JobAlertMatch
from app.applications.models import Application, ApplicationStatusChange
from app.auth.models import AccountToken, RefreshToken
from app.companies.models import Company
from app.core.models import Base
from app.email.models import OutboxEmail
from app.jobs.models import Job, SavedJob
from app.notifications.models import Notification
from app.users.models import User

__all__ = [
    "AccountToken",
    "Application",
    "ApplicationStatusChange",
    "Base",
    "Company",
    "Job",
    "JobAlert",
    "JobAlertMatch",
    "Notification",
    "OutboxEmail",
    "RefreshToken",
    "SavedJob",
    "User",
]
