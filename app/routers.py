"""Every domain's router, imported explicitly: a router that fails to import stops the app
from starting instead of silently vanishing."""

from app.alerts.router import router as alerts_router
from app.applications.router import router as applications_router
from app.auth.recovery_router import router as auth_recovery_router
from app.auth.signin_router import account_router
from app.auth.signin_router import router as auth_signin_router
from app.candidates.router import router as candidates_router
from app.companies.router import router as companies_router
from app.core.routing import Router
from app.email.router import router as email_router
from app.events.router import router as events_router
from app.files.router import router as files_router
from app.jobs.router import router as jobs_router
from app.jobs.router import saved_router as saved_jobs_router
from app.matching.router import router as matching_router
from app.messages.router import router as messages_router
from app.moderation.router import admin_router, reports_router
from app.notifications.router import router as notifications_router
from app.stats.router import router as stats_router
from app.users.router import router as users_router

# (router, prefix under /api). Included straight into the app: FastAPI matches nested routers
# level by level, so one level less is measurably cheaper on every request.
API_ROUTERS: list[tuple[Router, str]] = [
    (jobs_router, ""),
    (applications_router, ""),
    (saved_jobs_router, ""),
    (matching_router, ""),
    (companies_router, "/companies"),
    (notifications_router, "/notifications"),
    (stats_router, "/stats"),
    (users_router, "/users"),
    (account_router, "/users"),
    (auth_signin_router, "/auth"),
    (auth_recovery_router, "/auth"),
    (files_router, ""),
    (candidates_router, "/candidates"),
    (messages_router, ""),
    (reports_router, ""),
    (admin_router, ""),
    (events_router, ""),
    (email_router, ""),
    (alerts_router, ""),
]
