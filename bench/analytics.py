"""All analytics aggregates for 30 days at a million generations, in SQL and in pandas.

A throwaway PostgreSQL database is migrated and seeded with `bench.seed_history` (500 users,
1,000,000 generations over 365 days), then VACUUM ANALYZE so index-only scans can skip the heap.
We time (a) the whole report for everyone over 30 days, (b) the same for the busiest user, and
(c) the same answer computed by loading the 30 days of rows into pandas (`pd.read_sql`) and
aggregating there. The pandas answer is checked against the SQL one.

    python -m bench.analytics [--generations 1000000] [--users 500] [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select, text

from bench.seed_history import seed_history, vacuum_analyze
from bench.stack import percentiles
from core.analytics import Analytics, Report, Scope
from core.auth.account import Account
from core.periods import Period
from storage.db import create_db_engine, create_session_factory
from storage.migrate import upgrade_to_head
from storage.models import Generation, User
from tests.support.postgres import temporary_database

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
COLUMNS = (
    "created_at, modality, provider, model, status, latency_ms, duration_seconds, "
    "tokens_in, tokens_out, cost_usd, error"
)


def _timed(runs: int, work: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    result = work()  # warm-up: plans and caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples), result


def in_pandas(engine: Engine, since: datetime) -> dict[str, Any]:
    """The report's figures from raw rows: what the page would do without SQL aggregates."""
    rows = pd.read_sql(
        text(f"SELECT {COLUMNS} FROM generations WHERE created_at >= :since"),  # noqa: S608
        engine,
        params={"since": since},
    )
    rows["day"] = rows["created_at"].dt.tz_convert("UTC").dt.date
    rows["failed"] = rows["status"] == "failed"
    rows["completed"] = rows["status"] == "completed"
    rows["cost_usd"] = rows["cost_usd"].astype(float)
    rows["duration_seconds"] = rows["duration_seconds"].astype(float)
    daily = rows.groupby(["day", "modality"]).agg(
        generations=("status", "size"),
        failures=("failed", "sum"),
        completed=("completed", "sum"),
        audio_seconds=("duration_seconds", "sum"),
        tokens_in=("tokens_in", "sum"),
        tokens_out=("tokens_out", "sum"),
        cost_usd=("cost_usd", "sum"),
    )
    models = rows.groupby(["provider", "model"]).agg(
        generations=("status", "size"), failures=("failed", "sum"), cost_usd=("cost_usd", "sum")
    )
    timed = rows[rows["completed"] & rows["latency_ms"].notna()]
    latency = timed.groupby("provider")["latency_ms"].quantile([0.5, 0.95]).unstack()
    errors = rows.loc[rows["failed"], "error"].value_counts().head(10)
    return {
        "generations": int(daily["generations"].sum()),
        "days": len(daily),
        "models": len(models),
        "latency": {p: (round(r[0.5], 1), round(r[0.95], 1)) for p, r in latency.iterrows()},
        "errors": len(errors),
    }


def _summary(report: Report) -> dict[str, Any]:
    return {
        "generations": report.kpis.generations,
        "days": len(report.daily),
        "models": len(report.models),
        "latency": {r.provider: (r.p50_ms, r.p95_ms) for r in report.latency},
        "errors": len(report.errors),
    }


def _plans(engine: Engine) -> dict[str, str]:
    """Which access path PostgreSQL picks for the everyone, 30 days scan."""
    since = NOW - timedelta(days=30)
    plans = {}
    queries = {
        "daily": "SELECT timezone('UTC', created_at)::date, modality, count(*), sum(cost_usd) "
        "FROM generations WHERE created_at >= :since GROUP BY 1, 2",
        "latency": "SELECT provider, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) "
        "FROM generations WHERE created_at >= :since AND status = 'completed' GROUP BY 1",
    }
    with engine.connect() as db:
        for name, sql in queries.items():
            plan = db.execute(text("EXPLAIN " + sql), {"since": since}).scalars().all()
            plans[name] = next(
                (line.strip(" ->") for line in plan if "Scan" in line), "no scan found"
            ).split("  ")[0]
    return plans


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generations", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=20)
    arguments = parser.parse_args()

    with temporary_database() as url:
        engine = create_db_engine(url)
        upgrade_to_head(engine)
        seeded = seed_history(
            engine,
            users=arguments.users,
            generations=arguments.generations,
            days=arguments.days,
            now=NOW,
        )
        vacuum_seconds = vacuum_analyze(engine)
        sessions = create_session_factory(engine)
        analytics = Analytics(sessions, lambda: NOW)
        with sessions() as db:
            admin = Account.of(db.execute(select(User).where(User.role == "admin")).scalar_one())
            busiest, busiest_rows = db.execute(
                select(Generation.user_id, func.count())
                .where(Generation.created_at >= NOW - timedelta(days=30))
                .group_by(Generation.user_id)
                .order_by(func.count().desc())
                .limit(1)
            ).one()

        everyone_ms, everyone = _timed(
            arguments.runs,
            lambda: analytics.report(admin, Period.MONTH, scope=Scope.everyone()),
        )
        one_user_ms, _ = _timed(
            arguments.runs,
            lambda: analytics.report(admin, Period.MONTH, scope=Scope.of(busiest)),
        )
        pandas_ms, pandas_answer = _timed(
            max(3, arguments.runs // 4), lambda: in_pandas(engine, NOW - timedelta(days=30))
        )
        same = pandas_answer == _summary(everyone)
        plans = _plans(engine)
        engine.dispose()

    print(
        json.dumps(
            {
                "benchmark": "analytics_aggregates",
                "stack": "PostgreSQL, loopback",
                "generations": arguments.generations,
                "users": arguments.users,
                "days": arguments.days,
                "seed_seconds": seeded["seconds"],
                "vacuum_analyze_seconds": vacuum_seconds,
                "rows_in_30_days": everyone.kpis.generations,
                "everyone_30d_ms": everyone_ms,
                "goal_everyone_30d_ms": 300,
                "one_user_30d_ms": one_user_ms | {"user_rows": busiest_rows},
                "pandas_read_sql_30d_ms": pandas_ms,
                "pandas_over_sql_p50": round(pandas_ms["p50"] / everyone_ms["p50"], 1),
                "pandas_answer_matches_sql": same,
                "plans": plans,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
