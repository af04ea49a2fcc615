from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class EmailPreferences(BaseModel):
    """Which emails the account gets besides security ones (resets, verification, a changed
    password or address), which always go out."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "new_application": True,
                    "status_change": True,
                    "messages": False,
                    "job_alerts": True,
                }
            ]
        },
    )

    new_application: bool
    status_change: bool
    messages: bool
    job_alerts: bool
