from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from app.jobs.schemas import JobSearch

Frequency = Literal["instant", "daily"]


class JobAlertCreate(JobSearch):
    """The filters and `q` of GET /api/jobs (its `sort` is not used: alerts mail the newest
    jobs), and how often to mail them."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"q": "dive instructor", "island": "Exuma", "frequency": "daily"}]
        },
    )

    frequency: Frequency = "daily"

    @model_validator(mode="after")
    def _something_to_match(self) -> JobAlertCreate:
        if not self.filters():
            raise PydanticCustomError(
                "alert_without_criteria", "An alert needs q or at least one filter."
            )
        return self

    def filters(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude={"frequency", "sort"})


class JobAlertRead(BaseModel):
    id: int
    frequency: Frequency
    filters: dict[str, Any]
    created_at: datetime
