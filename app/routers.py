"""Every domain's router, imported explicitly: a router that fails to import stops the app
from starting instead of silently vanishing."""

from fastapi import APIRouter

from app.applications.router import router as applications_router
from app.auth.router import router as auth_router
from app.companies.router import router as companies_router
from app.jobs.router import employer_router as employer_jobs_router
from app.jobs.router import router as jobs_router
from app.jobs.router import saved_router as saved_jobs_router
from app.notifications.router import router as notifications_router
from app.stats.router import router as stats_router
from app.users.router import router as users_router

api_router = APIRouter()
api_router.include_router(auth_router, prefix="/auth")
api_router.include_router(users_router, prefix="/users")
api_router.include_router(companies_router, prefix="/companies")
api_router.include_router(jobs_router)
api_router.include_router(employer_jobs_router)
api_router.include_router(saved_jobs_router)
api_router.include_router(applications_router)
api_router.include_router(notifications_router, prefix="/notifications")
api_router.include_router(stats_router, prefix="/stats")
