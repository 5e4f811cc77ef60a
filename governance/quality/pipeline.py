"""Standardize what is stale, then profile: the refresh behind the Quality page and the CLI."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from governance.quality import profile
from governance.standardize import engine
from governance.storage import Database


@dataclass
class Refresh:
    standardized: engine.StandardizeResult
    run: profile.ProfileRun
    records: int

    @property
    def score(self) -> float | None:
        return self.run.score


def refresh(db: Database, actor: str, progress=None) -> Refresh:
    standardized = engine.standardize(db, actor, progress=(lambda f, s: progress(f * 0.6, s)) if progress else None)
    if progress:
        progress(0.7, "profile")
    run = profile.run_profile(db, actor)
    with db.cursor() as cur:
        records = cur.execute("SELECT count(*) FROM std_records").fetchone()[0]
    if progress:
        progress(1.0, "done")
    return Refresh(standardized, run, records)


def failing_records(cur: duckdb.DuckDBPyConnection, field: str, reason: str | None = None, source: str | None = None,
                    limit: int | None = 50, offset: int = 0) -> pd.DataFrame:
    """A page of one field's failing records (limit=None: all of them)."""
    return engine.failing_records(cur, field, reason=reason, source=source, limit=limit, offset=offset)


def count_failing(cur: duckdb.DuckDBPyConnection, field: str, reason: str | None = None, source: str | None = None) -> int:
    return engine.count_failing(cur, field, reason=reason, source=source)
