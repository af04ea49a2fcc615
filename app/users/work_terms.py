"""The terms of work a job states and a seeker may prefer: category, employment type, work mode
and pay period. Jobs and profiles share them, so they live here, in the lowest domain that uses
them (as the islands do)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field

MAX_PAY = Decimal("10000000")
# An amount of pay (a job's salary bounds, a seeker's lowest pay accepted), in its period.
PayAmount = Annotated[Decimal, Field(ge=0, le=MAX_PAY, max_digits=12, decimal_places=2)]


class EmploymentType(StrEnum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    CONTRACT = "contract"
    TEMPORARY = "temporary"
    INTERNSHIP = "internship"


class WorkMode(StrEnum):
    ON_SITE = "on_site"
    REMOTE = "remote"
    HYBRID = "hybrid"


class SalaryPeriod(StrEnum):
    HOUR = "hour"
    MONTH = "month"
    YEAR = "year"


class JobCategory(StrEnum):
    ACCOUNTING_FINANCE = "accounting_finance"
    ADMINISTRATION = "administration"
    CONSTRUCTION_TRADES = "construction_trades"
    CUSTOMER_SERVICE = "customer_service"
    EDUCATION = "education"
    ENGINEERING = "engineering"
    FOOD_BEVERAGE = "food_beverage"
    HEALTHCARE = "healthcare"
    HOSPITALITY_TOURISM = "hospitality_tourism"
    INFORMATION_TECHNOLOGY = "information_technology"
    LEGAL = "legal"
    MARITIME_FISHING = "maritime_fishing"
    MANAGEMENT = "management"
    MARKETING_SALES = "marketing_sales"
    PUBLIC_SERVICE = "public_service"
    SECURITY = "security"
    TRANSPORTATION_LOGISTICS = "transportation_logistics"
    OTHER = "other"


# How many of each period make a year, to compare pay stated per hour, month or year: a
# full-time year of 52 weeks of 40 hours, and 12 months.
PERIODS_PER_YEAR: dict[SalaryPeriod, int] = {
    SalaryPeriod.HOUR: 2080,
    SalaryPeriod.MONTH: 12,
    SalaryPeriod.YEAR: 1,
}
