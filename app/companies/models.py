from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IdMixin, TimestampMixin


class Industry(StrEnum):
    TOURISM_HOSPITALITY = "tourism_hospitality"
    BANKING_FINANCE = "banking_finance"
    CONSTRUCTION = "construction"
    FISHING_MARINE = "fishing_marine"
    GOVERNMENT = "government"
    HEALTHCARE = "healthcare"
    EDUCATION = "education"
    RETAIL = "retail"
    TECHNOLOGY = "technology"
    TRANSPORTATION_LOGISTICS = "transportation_logistics"
    LEGAL_PROFESSIONAL = "legal_professional"
    REAL_ESTATE = "real_estate"
    AGRICULTURE = "agriculture"
    ENERGY_UTILITIES = "energy_utilities"
    MEDIA_ENTERTAINMENT = "media_entertainment"
    NON_PROFIT = "non_profit"
    OTHER = "other"


class CompanySize(StrEnum):
    MICRO = "1-10"
    SMALL = "11-50"
    MEDIUM = "51-200"
    LARGE = "201-500"
    VERY_LARGE = "501-1000"
    ENTERPRISE = "1001+"


class Company(IdMixin, TimestampMixin, Base):
    __tablename__ = "companies"

    # Users are soft-deleted (rows stay), so the owner always exists.
    owner_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    slug: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(300))
    industry: Mapped[str | None] = mapped_column(String(40))
    size: Mapped[str | None] = mapped_column(String(10))
    location: Mapped[str | None] = mapped_column(String(120))
    island: Mapped[str | None] = mapped_column(String(40))
    logo_url: Mapped[str | None] = mapped_column(String(500))
    logo_file_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("files.id", ondelete="SET NULL")
    )
    # Set by an admin (POST /api/admin/companies/{id}/verify): a badge on it and its jobs.
    verified: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )
