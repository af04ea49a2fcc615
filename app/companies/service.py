"""Companies: created by employers, edited by their owner or an admin; slugs are unique."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditAction, TargetType
from app.audit.service import record
from app.companies.listing_cache import JOBS
from app.companies.models import Company
from app.companies.schemas import CompanyCreate, CompanyUpdate
from app.core.cache import Cache
from app.core.cursors import Ordering, SortKey
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.pagination import PageParams, paginate
from app.files import references as files
from app.files.models import Purpose
from app.files.storage import Storage
from app.identity.caller import Caller
from app.identity.models import Role

NEWEST_FIRST = Ordering("companies:newest", (SortKey(Company.id, int),))
_UNIQUE_VIOLATION = "23505"


def can_manage(user: Caller, owner_id: int) -> bool:
    """Whether `user` manages what the user `owner_id` owns (a company and its jobs)."""
    return user.role == Role.ADMIN or owner_id == user.id


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:70].strip("-")
    return slug if len(slug) >= 2 else "company"


async def _free_slug(session: AsyncSession, base: str) -> str:
    taken = set(
        (await session.scalars(select(Company.slug).where(Company.slug.startswith(base)))).all()
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


async def _flush_unique_slug(session: AsyncSession) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:
            raise Conflict("That slug is already taken by another company.") from None
        raise


async def create_company(
    session: AsyncSession, storage: Storage, owner: Caller, data: CompanyCreate
) -> Company:
    values = data.values()
    await files.image_change(session, storage, owner.id, values, Purpose.COMPANY_LOGO, None)
    slug = values.pop("slug") or await _free_slug(session, slugify(data.name))
    company = Company(owner_id=owner.id, slug=slug, **values)
    session.add(company)
    await _flush_unique_slug(session)
    await session.refresh(company)
    return company


async def get_company(session: AsyncSession, company_id: int) -> Company:
    company = await session.get(Company, company_id)
    if company is None:
        raise NotFound("No such company.")
    return company


async def list_companies(
    session: AsyncSession, page: PageParams, filters: dict[str, Any]
) -> tuple[Sequence[Row[*tuple[Any, ...]]], str | None]:
    stmt = select(Company)
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(Company, column) == value)
    return await paginate(session, stmt, NEWEST_FIRST, page)


async def update_company(
    session: AsyncSession,
    cache: Cache,
    storage: Storage,
    user: Caller,
    company_id: int,
    data: CompanyUpdate,
) -> Company:
    company = await get_company(session, company_id)
    if not can_manage(user, company.owner_id):
        raise Forbidden("Only the company's owner can change it.")
    changes = data.changes()
    replaced = await files.image_change(
        session, storage, user.id, changes, Purpose.COMPANY_LOGO, company.logo_file_id
    )
    cleared = _clear_verification_if_identity_changes(session, user, company, changes)
    for column, value in changes.items():
        setattr(company, column, value)
    await _flush_unique_slug(session)
    await files.discard_if_unused(session, storage, replaced)
    await session.refresh(company)
    if cleared or {"name", "logo_url"} & changes.keys():
        cache.invalidate_on_commit(session, JOBS)  # every page and list of its jobs shows them
    return company


# What an admin checks before verifying a company: the badge vouches for these, not the rest.
_VERIFIED_FIELDS = ("name", "website")


def _clear_verification_if_identity_changes(
    session: AsyncSession, user: Caller, company: Company, changes: dict[str, Any]
) -> bool:
    """A verified company whose name or website `changes` change loses the badge (an admin
    verifies it again), recorded in the audit log. Whether it did."""
    changed = [f for f in _VERIFIED_FIELDS if f in changes and changes[f] != getattr(company, f)]
    if not company.verified or not changed:
        return False
    company.verified = False
    was = "; ".join(
        f"{field} {getattr(company, field)!r} -> {changes[field]!r}" for field in changed
    )
    reason = f"Verification cleared: {was} (changed by user {user.id})"
    record(
        session,
        user,
        AuditAction.COMPANY_VERIFICATION_CLEARED,
        TargetType.COMPANY,
        company.id,
        reason,
    )
    return True
