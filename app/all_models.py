"""Every domain's models, imported in one place so Alembic and the tests see the whole schema."""

from app.alerts.models import JobAlert, JobAlertMatch
from app.applications.models import Application, ApplicationStatusChange
from app.audit.models import AuditEntry
from app.auth.models import AccountToken, RefreshToken
from app.candidates.models import Invitation
from app.companies.models import Company
from app.core.models import Base
from app.email.models import OutboxEmail
from app.events.models import Event
from app.files.models import StoredFile
from app.identity.models import User
from app.jobs.models import Job, SavedJob
from app.matching.models import JobDismissal
from app.messages.models import ConversationRead, Message
from app.moderation.models import Report
from app.notifications.models import Notification
from app.weekly_matches.models import MailedMatch

__all__ = [
    "AccountToken",
    "Application",
    "ApplicationStatusChange",
    "AuditEntry",
    "Base",
    "Company",
    "ConversationRead",
    "Event",
    "Invitation",
    "Job",
    "JobAlert",
    "JobAlertMatch",
    "JobDismissal",
    "MailedMatch",
    "Message",
    "Notification",
    "OutboxEmail",
    "RefreshToken",
    "Report",
    "SavedJob",
    "StoredFile",
    "User",
]
