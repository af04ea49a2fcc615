"""The worker's periodic clean-ups, run as the scheduler would at their time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from app.core.config import Settings
from app.files import rules
from tests.support.factories import Market
from tests.support.helpers import make_client
from tests.support.mail import Mail, run_task


async def test_events_older_than_a_week_are_pruned_and_recent_ones_replay(
    app: FastAPI, market: Market, mail: Mail
) -> None:
    seeker = await market.user()
    [[user_id]] = await market.sql("SELECT id FROM users WHERE email = :e", e=seeker.email)
    for age, delta in (("8 days", timedelta(days=8)), ("6 days", timedelta(days=6)),
                       ("1 minute", timedelta(minutes=1))):  # fmt: skip
        await market.sql(
            "INSERT INTO events (user_id, kind, payload, created_at)"
            " VALUES (:u, 'notification', CAST(:p AS jsonb), :at)",
            u=user_id,
            p=f'{{"age": "{age}"}}',
            at=datetime.now(UTC) - delta,
        )
    mail.worker()

    await run_task(app, "events.prune")

    kept = await market.sql(
        "SELECT payload->>'age' FROM events WHERE user_id = :u ORDER BY id", u=user_id
    )
    assert [age for (age,) in kept] == ["6 days", "1 minute"]


async def test_uploads_never_completed_are_removed_rows_and_bytes(
    start_app: Callable[[Settings], Any],
    make_settings: Callable[..., Settings],
    mail: Mail,
    tmp_path: Path,
) -> None:
    root = tmp_path / "uploads"
    app = await start_app(make_settings(storage_url=f"file://{root}"))
    async with make_client(app) as client:
        market = Market(app, client)
        seeker = await market.user()
        sent: list[int] = []
        for _ in range(2):
            announced = await client.post(
                "/api/uploads",
                json={"purpose": "resume", "content_type": rules.PDF, "size": 1000},
                headers=seeker.headers,
            )
            ticket = announced.json()
            put = await client.put(ticket["url"], content=b"%PDF-1.7", headers=ticket["headers"])
            assert put.status_code == 204, put.text
            sent.append(ticket["id"])
        abandoned, in_progress = sent
        await market.sql(
            "UPDATE files SET expires_at = now() - interval '1 minute' WHERE id = :id",
            id=abandoned,
        )
        [[abandoned_key]] = await market.sql(
            "SELECT storage_key FROM files WHERE id = :id", id=abandoned
        )
        mail.worker(STORAGE_URL=f"file://{root}")

        await run_task(app, "files.cleanup_uploads")

        assert await market.sql("SELECT id FROM files") == [(in_progress,)]
        assert not (root / abandoned_key).exists()
        assert len([p for p in root.rglob("*") if p.is_file()]) == 1


async def test_sign_in_addresses_unused_for_90_days_are_pruned(
    app: FastAPI, market: Market, mail: Mail
) -> None:
    seeker = await market.user()  # its sign-up address is known from now on
    await market.sql(
        "INSERT INTO sign_in_addresses (user_id, address_digest, last_seen_at)"
        " VALUES (:u, :d, :at)",
        u=seeker.id,
        d="0" * 64,
        at=datetime.now(UTC) - timedelta(days=91),
    )
    mail.worker()

    await run_task(app, "auth.clean_tokens")

    kept = await market.sql(
        "SELECT address_digest FROM sign_in_addresses WHERE user_id = :u", u=seeker.id
    )
    assert len(kept) == 1 and kept[0][0] != "0" * 64
