"""/api/companies"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status
from pydantic import TypeAdapter

from app.companies import service
from app.companies.models import Company, Industry
from app.companies.schemas import CompanyCreate, CompanyRead, CompanyUpdate
from app.core.cache import CacheDep
from app.core.db import PublicReaderDep, SessionDep
from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized, error_responses
from app.core.http_cache import PublicReply, public_get, public_json
from app.core.ids import IdPath
from app.core.pagination import Page, PageDep
from app.core.routing import Router
from app.files.deps import StorageDep
from app.identity.deps import CurrentUser, EmployerUser
from app.users.islands import Island

router = Router(tags=["companies"])

# Public pages are sent as the bytes their declared response model serialises to, so that
# their ETag is computed over exactly what is sent.
_COMPANY = TypeAdapter(CompanyRead)
_COMPANY_PAGE = TypeAdapter(Page[CompanyRead])


@router.post(
    "",
    summary="Create a company",
    status_code=status.HTTP_201_CREATED,
    response_model=CompanyRead,
    responses=error_responses(Unauthorized, Forbidden, Conflict),
)
async def create_company(
    body: CompanyCreate, user: EmployerUser, session: SessionDep, storage: StorageDep
) -> Company:
    return await service.create_company(session, storage, user, body)


@public_get(
    router,
    "",
    response_model=Page[CompanyRead],
    responses=error_responses(),
    summary="List companies",
)
async def list_companies(
    request: Request,
    page: PageDep,
    reader: PublicReaderDep,
    island: Annotated[Island | None, Query()] = None,
    industry: Annotated[Industry | None, Query()] = None,
) -> Response:
    rows, cursor = await service.list_companies(
        await reader.session(), page, {"island": island, "industry": industry}
    )
    items = [CompanyRead.model_validate(row[0]) for row in rows]
    body = _COMPANY_PAGE.dump_json(Page(items=items, next_cursor=cursor))
    return public_json(request, PublicReply(body))


@public_get(
    router,
    "/{company_id}",
    response_model=CompanyRead,
    responses=error_responses(NotFound),
    summary="A company's page",
)
async def get_company(request: Request, company_id: IdPath, reader: PublicReaderDep) -> Response:
    company = await service.get_company(await reader.session(), company_id)
    return public_json(
        request, PublicReply(_COMPANY.dump_json(CompanyRead.model_validate(company)))
    )


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
) -> Company:
    return await service.update_company(session, cache, storage, user, company_id, body)
