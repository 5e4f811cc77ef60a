"""Saved audiences: name, owner, purpose, default channel, rule, kind and version history.

Owner of audiences, audience_versions, audience_members, audience_member_history,
audience_snapshots and audience_snapshot_members.

- Every save is a new version (audience_versions) and is audited (Event.AUDIENCE_SAVE); it needs an
  active user whose role holds `audiences.edit`. A rule reading an unknown or unpublished tag, an
  unknown saved audience, or reaching the audience itself (a cycle) is refused.
- A *dynamic* audience holds its current members in audience_members: the people its rule matches
  who pass every exclusion (members.py) for its purpose and channel. `refresh` recomputes them (the
  pipeline runs it after every tag refresh) and writes who joined and who left, and when, to
  audience_member_history (one row per stay, with the audience version they joined under).
- A *snapshot* audience is frozen: saving it takes a snapshot, and its members are those of its
  latest snapshot. Any audience can be snapshotted (`snapshot`, audited Event.AUDIENCE_SNAPSHOT): the
  member list is kept with its time, version, exclusion counts and a SHA-256 over the sorted OneIDs.
- Reading members (`member_page`) checks the exclusions again, now: a person who withdrew consent
  or turned out to be a minor without a guardian's consent since the last refresh is not returned.
  An erased person's rows go with the erasure (every table with a `oneid` column).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd

from governance.access import audit, auth, masking
from governance.access.events import Event
from governance.audiences import members as members_mod
from governance.audiences.members import EXCLUSIONS, check_channel, check_purpose
from governance.audiences.rules import AudienceError, check_rule, compile_rule, references
from governance.store.config import secret
from governance.store.errors import GovernanceError
from governance.store.storage import Database, quote_literal, scalar
from governance.store.util import utcnow
from governance.tags import compute as tag_compute
from governance.tags import library as tag_library

KINDS = ("dynamic", "snapshot")
NAME_PATTERN = re.compile(r"[^\W_][\w.-]{0,63}")  # letters (Chinese too), digits, _ . -
MAX_PAGE = 1000
BREAKDOWNS = ("province", "age_band", "channel")
SAMPLE_COLUMNS = (("oneid", None), ("name", "name"), ("mobile", "mobile"), ("gender", "gender"),
                  ("province", "province"), ("city", "city"))


@dataclass(frozen=True)
class Audience:
    name: str
    kind: str
    purpose: str
    channel: str
    owner: str
    version: int
    rule: dict[str, Any]
    description: str | None
    updated_at: datetime
    refreshed_at: datetime | None
    members: int | None


_COLUMNS = "name, kind, purpose, channel, owner, version, rule, description, updated_at, refreshed_at, members"


def _audience(row: tuple) -> Audience:
    values = list(row)
    values[6] = json.loads(values[6]) if isinstance(values[6], str) else values[6]
    return Audience(*values)


def get(cur: duckdb.DuckDBPyConnection, name: str) -> Audience:
    row = cur.execute(f"SELECT {_COLUMNS} FROM audiences WHERE name = ?", [name]).fetchone()
    if row is None:
        raise AudienceError(f"No saved audience {name!r}.")
    return _audience(row)


def list_audiences(cur: duckdb.DuckDBPyConnection) -> list[Audience]:
    return [_audience(r) for r in cur.execute(f"SELECT {_COLUMNS} FROM audiences ORDER BY name").fetchall()]


def versions(cur: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """Every version of an audience, newest first: kind, purpose, channel, rule, who, when and why."""
    get(cur, name)
    return cur.execute("SELECT version, kind, purpose, channel, rule, description, created_by, created_at, reason "
                       "FROM audience_versions WHERE name = ? ORDER BY version DESC", [name]).df()


# ---- saving ------------------------------------------------------------------------------------

def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name.strip()):
        raise AudienceError(f"An audience name is 1 to 64 letters, digits, _, . or -, starting with a letter or "
                            f"digit, not {name!r}.")
    return name.strip()


def check_references(cur: duckdb.DuckDBPyConnection, name: str, rule: Any) -> None:
    """The rule's tags are published (or deprecated) and its audiences saved, without a cycle."""
    live = {t.code for t in tag_library.computed(cur)}
    unknown = [t for t in references(rule)["tags"] if t not in live]
    if unknown:
        raise AudienceError(f"The rule reads tags that are not published: {', '.join(unknown)}.")
    compile_rule(rule, tag_compute.today(), lambda other: members_mod.saved_rule(cur, other), within=(name,))


def save(db: Database, actor: str, name: str, rule: Any, purpose: str, kind: str = "dynamic", channel: str = "sms",
         description: str | None = None, reason: str | None = None) -> int:
    """Save an audience (a new one, or a new version of it); returns the version. Audited. A dynamic
    audience's members are computed at once; a snapshot audience is frozen (a snapshot is taken)."""
    name = check_name(name)
    check_rule(rule)
    check_purpose(purpose)
    check_channel(channel)
    if kind not in KINDS:
        raise AudienceError(f"Unknown audience kind {kind!r}; choose one of {', '.join(KINDS)}.")
    description = (description or "").strip() or None
    reason = (reason or "").strip() or None
    with db.transaction() as cur:
        user = auth.require_user(cur, actor, "audiences.edit")
        check_references(cur, name, rule)
        old = cur.execute("SELECT version, kind FROM audiences WHERE name = ?", [name]).fetchone()
        version = old[0] + 1 if old else 1
        now = utcnow()
        text = json.dumps(rule, ensure_ascii=False, sort_keys=True)
        if old:
            cur.execute("UPDATE audiences SET kind = ?, purpose = ?, channel = ?, version = ?, rule = ?, description = ?, "
                        "updated_by = ?, updated_at = ? WHERE name = ?",
                        [kind, purpose, channel, version, text, description, user.username, now, name])
        else:
            cur.execute("INSERT INTO audiences VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                        [name, kind, purpose, channel, user.username, version, text, description, user.username, now,
                         user.username, now])
        cur.execute("INSERT INTO audience_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [name, version, kind, purpose, channel, text, description, user.username, now, reason])
        audit.record(cur, user.username, Event.AUDIENCE_SAVE, "audience", name,
                     {"version": version, "kind": kind, "purpose": purpose, "channel": channel, "rule": rule,
                      "reason": reason})
        if kind == "dynamic":
            refresh(cur, user.username, [name])
        else:
            if old and old[1] == "dynamic":  # frozen from now on: the dynamic members leave
                _leave_all(cur, name, now)
            _snapshot(cur, user.username, name)
    return version


# ---- dynamic members ---------------------------------------------------------------------------

def _leave_all(cur: duckdb.DuckDBPyConnection, name: str, now: datetime) -> None:
    cur.execute("UPDATE audience_member_history SET left_at = ? WHERE name = ? AND left_at IS NULL", [now, name])
    cur.execute("DELETE FROM audience_members WHERE name = ?", [name])


def refresh(cur: duckdb.DuckDBPyConnection, actor: str | None = None, names: list[str] | None = None) -> dict[str, int]:
    """Recompute the members of the dynamic audiences (or of `names` among them), inside the caller's
    transaction: joins and leaves go to audience_member_history. Returns members per audience. An
    audience whose rule no longer compiles (say a nested audience it reads was changed into a
    cycle) keeps its members and is left out of the result."""
    sql, params = "SELECT name, version, purpose, channel, rule FROM audiences WHERE kind = 'dynamic'", []
    if names is not None:
        sql += " AND list_contains(?::VARCHAR[], name)"
        params.append(list(names))
    counts: dict[str, int] = {}
    for name, version, purpose, channel, text in cur.execute(sql + " ORDER BY name", params).fetchall():
        rule = json.loads(text) if isinstance(text, str) else text
        try:
            eligible = members_mod.eligible_sql(cur, rule, purpose, channel)
        except GovernanceError:
            continue
        now = utcnow()
        cur.execute(f"CREATE OR REPLACE TEMP TABLE audience_now AS {eligible}")
        cur.execute("UPDATE audience_member_history SET left_at = ? WHERE name = ? AND left_at IS NULL "
                    "AND oneid NOT IN (SELECT oneid FROM audience_now)", [now, name])
        cur.execute("DELETE FROM audience_members WHERE name = ? AND oneid NOT IN (SELECT oneid FROM audience_now)",
                    [name])
        cur.execute("CREATE OR REPLACE TEMP TABLE audience_joined AS SELECT oneid FROM audience_now "
                    "EXCEPT SELECT oneid FROM audience_members WHERE name = ?", [name])
        cur.execute("INSERT INTO audience_members SELECT ?, oneid, ? FROM audience_joined", [name, now])
        cur.execute("INSERT INTO audience_member_history SELECT ?, oneid, ?, ?, NULL FROM audience_joined",
                    [name, version, now])
        n = scalar(cur, "SELECT count(*) FROM audience_now")
        cur.execute("UPDATE audiences SET refreshed_at = ?, members = ? WHERE name = ?", [now, n, name])
        counts[name] = int(n)
    cur.execute("DROP TABLE IF EXISTS audience_now")
    cur.execute("DROP TABLE IF EXISTS audience_joined")
    return counts


def history(cur: duckdb.DuckDBPyConnection, name: str, oneid: str | None = None) -> pd.DataFrame:
    """Who joined and left a dynamic audience, and when (newest first)."""
    get(cur, name)
    where, params = ("AND oneid = ?", [name, oneid]) if oneid else ("", [name])
    return cur.execute(f"SELECT oneid, version, joined_at, left_at FROM audience_member_history WHERE name = ? {where} "
                       "ORDER BY coalesce(left_at, joined_at) DESC, oneid", params).df()


def movements(cur: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """How many people joined and left a dynamic audience per day (UTC), newest first: day, joined, left."""
    get(cur, name)
    return cur.execute(
        "SELECT day, sum(joined)::BIGINT AS joined, sum(left_)::BIGINT AS left FROM ("
        "SELECT CAST(joined_at AS DATE) AS day, 1 AS joined, 0 AS left_ FROM audience_member_history WHERE name = ? "
        "UNION ALL SELECT CAST(left_at AS DATE), 0, 1 FROM audience_member_history WHERE name = ? AND left_at IS NOT NULL"
        ") GROUP BY day ORDER BY day DESC", [name, name]).df()


# ---- snapshots ---------------------------------------------------------------------------------

def _snapshot(cur: duckdb.DuckDBPyConnection, actor: str, name: str) -> int:
    audience = get(cur, name)
    found = members_mod.count(cur, audience.rule, audience.purpose, audience.channel)
    snapshot_id = scalar(cur, "SELECT nextval('audience_snapshot_seq')")
    now = utcnow()
    eligible = members_mod.eligible_sql(cur, audience.rule, audience.purpose, audience.channel)
    cur.execute(f"INSERT INTO audience_snapshot_members SELECT ?, oneid FROM ({eligible}) ORDER BY oneid", [snapshot_id])
    n, checksum = cur.execute("SELECT count(*), sha256(coalesce(string_agg(oneid, chr(10) ORDER BY oneid), '')) "
                              "FROM audience_snapshot_members WHERE snapshot_id = ?", [snapshot_id]).fetchone() or (0, "")
    excluded = {k: found.excluded.get(k, 0) for k in EXCLUSIONS}
    cur.execute("INSERT INTO audience_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [snapshot_id, name, audience.version, audience.purpose, audience.channel, actor, now, n,
                 json.dumps(excluded), checksum])
    if audience.kind == "snapshot":
        cur.execute("UPDATE audiences SET refreshed_at = ?, members = ? WHERE name = ?", [now, n, name])
    audit.record(cur, actor, Event.AUDIENCE_SNAPSHOT, "audience", name,
                 {"snapshot_id": snapshot_id, "version": audience.version, "purpose": audience.purpose,
                  "channel": audience.channel, "members": n, "excluded": excluded, "sha256": checksum})
    return int(snapshot_id)


def snapshot(db: Database, actor: str, name: str) -> int:
    """Freeze an audience's eligible members now; returns the snapshot id. Audited."""
    with db.transaction() as cur:
        user = auth.require_user(cur, actor, "audiences.edit")
        return _snapshot(cur, user.username, name)


def snapshots(cur: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    get(cur, name)
    return cur.execute("SELECT snapshot_id, version, purpose, channel, taken_by, taken_at, members, excluded, checksum "
                       "FROM audience_snapshots WHERE name = ? ORDER BY snapshot_id DESC", [name]).df()


def snapshot_members(cur: duckdb.DuckDBPyConnection, snapshot_id: int) -> list[str]:
    return [r[0] for r in cur.execute("SELECT oneid FROM audience_snapshot_members WHERE snapshot_id = ? ORDER BY oneid",
                                      [snapshot_id]).fetchall()]


# ---- reading members ---------------------------------------------------------------------------

def members_sql(cur: duckdb.DuckDBPyConnection, audience: Audience) -> str:
    """A SELECT of `oneid` of the stored members: a dynamic audience's current ones, a snapshot
    audience's latest snapshot (none before the first)."""
    if audience.kind == "dynamic":
        return f"SELECT oneid FROM audience_members WHERE name = {quote_literal(audience.name)}"
    latest = scalar(cur, "SELECT max(snapshot_id) FROM audience_snapshots WHERE name = ?", [audience.name])
    return f"SELECT oneid FROM audience_snapshot_members WHERE snapshot_id = {int(latest) if latest is not None else -1}"


def member_page(cur: duckdb.DuckDBPyConnection, name: str, cursor: str | None = None,
                limit: int = 100) -> tuple[list[str], str | None]:
    """One page of an audience's members ordered by OneID, after `cursor` (the last OneID of the
    previous page); returns the OneIDs and the next cursor (None on the last page). The exclusions
    are checked again now (see the module docstring)."""
    audience = get(cur, name)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise AudienceError(f"A page holds 1 to {MAX_PAGE} members.")
    stored = members_sql(cur, audience)
    after = "AND oneid > ?" if cursor else ""
    scope = f"SELECT oneid FROM ({stored}) WHERE true {after}"
    reasons = members_mod.reasons_sql(cur, {"field": "record_count", "gte": 0}, audience.purpose, audience.channel)
    sql = (f"SELECT oneid FROM ({reasons}) WHERE reason IS NULL AND oneid IN ({scope}) ORDER BY oneid LIMIT ?")
    rows = [r[0] for r in cur.execute(sql, ([cursor] if cursor else []) + [limit + 1]).fetchall()]
    page = rows[:limit]
    return page, (page[-1] if len(rows) > limit else None)


def overlap(cur: duckdb.DuckDBPyConnection, names: list[str]) -> pd.DataFrame:
    """Pairwise overlap of the stored members of saved audiences: one row per ordered pair (a, b), the
    diagonal included, with a_count, b_count, both (in both) and jaccard (both / in either; 0 when
    both are empty), so a pivot gives the full matrix."""
    chosen = list(dict.fromkeys(names))
    if not chosen:
        raise AudienceError("Choose at least one audience.")
    sets = " UNION ALL ".join(f"SELECT {i} AS i, oneid FROM ({members_sql(cur, get(cur, n))})"
                              for i, n in enumerate(chosen))
    sizes = dict(cur.execute(f"SELECT i, count(*) FROM ({sets}) GROUP BY i").fetchall())
    pairs = {(a, b): n for a, b, n in cur.execute(
        f"WITH s AS ({sets}) SELECT x.i, y.i, count(*) FROM s x JOIN s y USING (oneid) GROUP BY ALL").fetchall()}
    rows = []
    for i, a in enumerate(chosen):
        for j, b in enumerate(chosen):
            na, nb, both = int(sizes.get(i, 0)), int(sizes.get(j, 0)), int(pairs.get((i, j), 0))
            union = na + nb - both
            rows.append({"a": a, "b": b, "a_count": na, "b_count": nb, "both": both,
                         "jaccard": round(both / union, 6) if union else 0.0})
    return pd.DataFrame(rows, columns=["a", "b", "a_count", "b_count", "both", "jaccard"])


# ---- a live rule: sample and breakdown -------------------------------------------------------------

def sample(cur: duckdb.DuckDBPyConnection, rule: Any, purpose: str, channel: str, role: str,
           n: int = 10, app_id: str | None = None) -> pd.DataFrame:
    """Up to `n` eligible members (a stable pick by a hash of the OneID), masked as `role` sees them.
    `app_id`: the WeChat app whose open_ids count as a contact, as for the count (members.eligible_sql)."""
    if role not in auth.ROLES:
        raise AudienceError(f"Unknown role {role!r}.")
    policy = masking.load_policy(cur, secret("hmac_key"))
    if policy.key:
        masking.set_sql_key(cur, policy.key)  # for `hash` rules
    columns = ", ".join(f"{masking.sql_mask_value(f, f'g.{c}', role, policy) if f else f'g.{c}'} AS {c}"
                        for c, f in SAMPLE_COLUMNS)
    eligible = members_mod.eligible_sql(cur, rule, purpose, channel, app_id)
    return cur.execute(f"SELECT {columns}, g.age_band, array_to_string(g.channels, ',') AS channels "
                       f"FROM golden_wide g SEMI JOIN ({eligible}) e ON e.oneid = g.oneid "
                       f"ORDER BY hash(g.oneid), g.oneid LIMIT ?", [max(0, int(n))]).df()


def breakdown(cur: duckdb.DuckDBPyConnection, rule: Any, purpose: str, channel: str, by: str,
              app_id: str | None = None) -> pd.DataFrame:
    """Eligible members per province, age band (the `age_band` tag, else the golden age band) or
    channel (a person counts under each of their channels): columns value, members. `app_id`: as
    for `sample`."""
    if by not in BREAKDOWNS:
        raise AudienceError(f"Unknown breakdown {by!r}; choose one of {', '.join(BREAKDOWNS)}.")
    value = {"province": "g.province",
             "age_band": "coalesce((SELECT v.value FROM tag_values v WHERE v.oneid = g.oneid "
                         "AND v.tag_code = 'age_band'), g.age_band)",
             "channel": "unnest(g.channels)"}[by]
    eligible = members_mod.eligible_sql(cur, rule, purpose, channel, app_id)
    return cur.execute(f"SELECT value, count(*) AS members FROM (SELECT {value} AS value FROM golden_wide g "
                       f"SEMI JOIN ({eligible}) e ON e.oneid = g.oneid) GROUP BY value "
                       f"ORDER BY members DESC, value NULLS LAST").df()
