"""What bench.mail_burst reads the CPU of each process with: PostgreSQL's own CPU, sampled
through /proc while it works, and any window inside a sampled run."""

from __future__ import annotations

import asyncpg

from bench.load import postgres_cpu_seconds
from bench.mail_burst import CpuMeter


async def test_postgres_cpu_counts_a_query_on_a_connection_that_has_closed(
    db: asyncpg.Connection, database_url: str
) -> None:
    """A backend's CPU stays counted after its connection closes (the postmaster's counters of
    the backends it reaped), so a run's many short connections are all charged."""
    before = postgres_cpu_seconds()
    await db.fetchval("SELECT count(*) FROM generate_series(1, 5000000)")
    during = postgres_cpu_seconds()
    await db.close()
    after = postgres_cpu_seconds()
    assert during - before >= 0.1
    assert after >= during


def test_a_window_inside_a_sampled_run_is_read_between_its_samples() -> None:
    meter = CpuMeter({})
    meter.samples = [(10.0, {"worker": 1.0}), (12.0, {"worker": 3.0}), (14.0, {"worker": 3.0})]
    assert meter.between(11.0, 13.0) == {"worker": 1.0}  # half of 1 -> 3, none of 3 -> 3
    assert meter.between(10.0, 14.0) == {"worker": 2.0}
    assert meter.between(9.0, 15.0) == {"worker": 2.0}  # outside the samples: their ends
