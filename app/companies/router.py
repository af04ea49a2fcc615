"""/api/companies"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import CurrentUser, EmployerUser
from app.companies import service
from app.companies.models import Industry
from app.companies.schemas import CompanyCreate, CompanyRead, CompanyUpdate
from app.core.bahamas import Island
from app.core.cache import CacheDep
from app.core.db import SessionDep
from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized, error_responses
from app.core.ids import IdPath
from app.core.pagination import Page, PageDep
from app.files.deps import StorageDep

router = APIRouter(tags=["companies"])


@router.post(
    "",
    summary="Create a company",
    status_code=status.HTTP_201_CREATED,
    response_model=CompanyRead,
    responses=error_responses(Unauthorized, Forbidden, Conflict),
)
async def create_company(
    body: CompanyCreate, user: EmployerUser, session: SessionDep, storage: StorageDep
):
    return await service.create_company(session, storage, user, body)


@router.get(
    "",
    summary="Companies, newest first",
    response_model=Page[CompanyRead],
    responses=error_responses(),
)
async def list_companies(
    page: PageDep,
    session: SessionDep,
    island: Annotated[Island | None, Query()] = None,
    industry: Annotated[Industry | None, Query()] = None,
):
    rows, cursor = await service.list_companies(
        session, page, {"island": island, "industry": industry}
    )
    return Page[CompanyRead](
        items=[CompanyRead.model_validate(row[0]) for row in rows], next_cursor=cursor
    )


@router.get(
    "/{company_id}",
    summary="One company",
    response_model=CompanyRead,
    responses=error_responses(NotFound),
)
async def get_company(company_id: IdPath, session: SessionDep):
    return await service.get_company(session, company_id)


@router.patch(
    "/{company_id}",
    summary="Edit a company you own",
    response_model=CompanyRead,
    responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def update_company(
    company_id: IdPath,
    body: CompanyUpdate,
    user: CurrentUser,
    session: SessionDep,
    cache: CacheDep,
    storage: StorageDep,
):
    return await service.update_company(session, cache, storage, user, company_id, body)
