"""The tag library: categories, versioned definitions, naming checks, the approval lifecycle and usage.

Every saved change is a new version in draft (who, when, why). A version goes draft → in_review →
published, and a tag → deprecated → retired (also published → retired). Saving over a draft or a
version in review supersedes it; saving over a published (or deprecated) tag leaves that version
computed until the new one is approved, which supersedes it. Rejection returns the version to draft.
Four eyes: a version is approved or rejected by a steward or admin other than its author (created_by).

Permissions are per category: `view_roles` and `edit_roles`, narrowed by every ancestor of the
category's path ('preference/category' inherits from 'preference'); only stewards and admins edit,
admins always may; sensitive tags are never shown to analysts, whatever their category says.
This module alone writes tag_categories, tag_definitions and tag_reviews.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pandas as pd

from governance.access import audit, auth
from governance.access.events import Event
from governance.store.storage import Database
from governance.store.util import utcnow
from governance.tags import templates
from governance.tags.definitions import (
    BUILTINS,
    COMPUTED_STATUSES,
    DEFAULT_CATEGORIES,
    DEPRECATED,
    DRAFT,
    IN_REVIEW,
    PUBLISHED,
    RETIRED,
    SENSITIVITIES,
    SUPERSEDED,
    AllowedValue,
    Category,
    TagDefinition,
    TagError,
    check_definition,
)

EDITOR_ROLES = ("admin", "steward")
CATEGORY_PATTERN = re.compile(r"[a-z][a-z0-9_]*(/[a-z][a-z0-9_]*)*")
SIMILAR_RATIO = 0.8  # names this alike (after the suffix words go) are near-duplicates
_SUFFIXES_ZH = ("客户", "用户", "会员", "人群")
_SUFFIXES_EN = ("customers", "customer", "users", "user", "members", "member", "people")
_PUNCT = re.compile(r"[\W_]+")

_COLUMNS = ("code, version, name_zh, name_en, category, value_type, allowed_values, business_definition, "
            "technical_definition, owner, sensitivity, refresh_cadence, status, builtin, created_by, created_at, reason")
# the fields a version diff compares (to_json's keys less code, version and status)
DIFF_FIELDS = ("name_zh", "name_en", "category", "value_type", "allowed_values", "business_definition",
               "technical_definition", "owner", "sensitivity", "refresh_cadence")


@dataclass(frozen=True)
class SaveResult:
    version: int
    warnings: list[str]


# ---- reading ----------------------------------------------------------------------------------------

def _tag(row: tuple) -> TagDefinition:
    (code, version, name_zh, name_en, category, value_type, allowed, business, technical, owner, sensitivity,
     cadence, status, builtin, created_by, created_at, reason) = row
    values = tuple(AllowedValue(str(a["code"]), str(a["zh"]), str(a["en"])) for a in json.loads(allowed or "[]"))
    return TagDefinition(code, name_zh, name_en, category, value_type, json.loads(technical), business or "", values,
                         owner, sensitivity, cadence, int(version), status, bool(builtin), created_by, created_at,
                         reason)


def _rows(cur: duckdb.DuckDBPyConnection, where: str = "", params: list | None = None) -> list[TagDefinition]:
    sql = f"SELECT {_COLUMNS} FROM tag_definitions {where} ORDER BY code, version"
    return [_tag(r) for r in cur.execute(sql, params or []).fetchall()]


def get(cur: duckdb.DuckDBPyConnection, code: str, version: int | None = None) -> TagDefinition:
    """A tag's version (the newest when None)."""
    found = _rows(cur, "WHERE code = ?", [code])
    if not found:
        raise TagError(f"No tag {code!r}.")
    if version is None:
        return found[-1]
    for tag in found:
        if tag.version == version:
            return tag
    raise TagError(f"The tag {code!r} has no version {version}.")


def _latest(cur: duckdb.DuckDBPyConnection) -> dict[str, TagDefinition]:
    return {t.code: t for t in _rows(cur)}  # ordered by version: the last one wins


def _computed_version(versions: list[TagDefinition]) -> TagDefinition | None:
    live = [t for t in versions if t.status in COMPUTED_STATUSES]
    return live[-1] if live else None


def computed(cur: duckdb.DuckDBPyConnection) -> list[TagDefinition]:
    """Per code, the newest published or deprecated version: what is computed (a newer draft or a
    version in review does not stop it)."""
    return _rows(cur, "WHERE status IN (?, ?) QUALIFY version = max(version) OVER (PARTITION BY code)",
                 list(COMPUTED_STATUSES))


# ---- categories and permissions -----------------------------------------------------------------------

def categories(cur: duckdb.DuckDBPyConnection) -> list[Category]:
    rows = cur.execute("SELECT path, name_zh, name_en, view_roles, edit_roles FROM tag_categories ORDER BY path")
    return [Category(p, zh, en, tuple(v), tuple(e)) for p, zh, en, v, e in rows.fetchall()]


def _category_map(cur: duckdb.DuckDBPyConnection) -> dict[str, Category]:
    return {c.path: c for c in categories(cur)}


def _ancestry(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _allowed(cats: dict[str, Category], role: str | None, path: str, edit: bool) -> bool:
    if role == "admin":
        return path in cats
    if role is None or path not in cats or (edit and role not in EDITOR_ROLES):
        return False
    return all(role in (cats[p].edit_roles if edit else cats[p].view_roles) for p in _ancestry(path) if p in cats)


def _visible(cats: dict[str, Category], role: str | None, tag: TagDefinition) -> bool:
    if tag.sensitivity == "sensitive" and role not in EDITOR_ROLES:
        return False  # analysts never see sensitive tags (PIPL art. 28), whatever their category says
    return _allowed(cats, role, tag.category, edit=False)


def can_edit(cur: duckdb.DuckDBPyConnection, role: str | None, category: str) -> bool:
    """Whether `role` may edit (save, submit, review, deprecate, retire) tags in `category`."""
    return _allowed(_category_map(cur), role, category, edit=True)


def can_view(cur: duckdb.DuckDBPyConnection, role: str | None, code: str) -> bool:
    """Whether `role` may see the tag: its newest and its computed version (category and sensitivity)."""
    versions = _rows(cur, "WHERE code = ?", [code])
    if not versions:
        return False
    cats = _category_map(cur)
    shown = [versions[-1], *([c] if (c := _computed_version(versions)) else [])]
    return all(_visible(cats, role, t) for t in shown)


def tag_list(cur: duckdb.DuckDBPyConnection, role: str | None) -> pd.DataFrame:
    """One row per tag the role may view: its newest version's fields and the computed version."""
    cats = _category_map(cur)
    by_code: dict[str, list[TagDefinition]] = {}
    for tag in _rows(cur):
        by_code.setdefault(tag.code, []).append(tag)
    rows = []
    for code, versions in by_code.items():
        newest, live = versions[-1], _computed_version(versions)
        if not all(_visible(cats, role, t) for t in (newest, *([live] if live else []))):
            continue
        rows.append({"code": code, "name_zh": newest.name_zh, "name_en": newest.name_en, "category": newest.category,
                     "value_type": newest.value_type, "status": newest.status, "version": newest.version,
                     "owner": newest.owner, "sensitivity": newest.sensitivity,
                     "refresh_cadence": newest.refresh_cadence,
                     "computed_version": live.version if live else None})
    columns = ["code", "name_zh", "name_en", "category", "value_type", "status", "version", "owner", "sensitivity",
               "refresh_cadence", "computed_version"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["computed_version"] = frame["computed_version"].astype("Int64")
    return frame


def viewable_computed(cur: duckdb.DuckDBPyConnection, role: str | None) -> dict[str, TagDefinition]:
    """The computed (published or deprecated) tags `role` may view (tag_list's rule), by code, each as
    it is computed: what a role may use in a rule or read over the API."""
    codes = set(tag_list(cur, role)["code"])
    return {t.code: t for t in computed(cur) if t.code in codes}


def set_category(db: Database, actor: str, category: Category) -> None:
    """Add or change a category (admins only); a sub-category's parent must exist. Audited."""
    path = category.path
    if not isinstance(path, str) or not CATEGORY_PATTERN.fullmatch(path) or len(path) > 120:
        raise TagError(f"A category path is lower snake case segments joined by '/' (such as preference/category), "
                       f"not {path!r}.")
    if not category.name_zh.strip() or not category.name_en.strip():
        raise TagError("A category needs a Chinese and an English name.")
    unknown = sorted(r for r in set(category.view_roles) | set(category.edit_roles) if r not in auth.ROLES)
    if unknown:
        raise TagError(f"Unknown roles: {', '.join(unknown)}; choose from {', '.join(auth.ROLES)}.")
    if set(category.edit_roles) - set(EDITOR_ROLES):
        raise TagError("Only admins and stewards edit tags: edit_roles names admin or steward only.")
    with db.transaction() as cur:
        ensure_builtins(cur)
        user = _require_actor(cur, actor)
        if user.role != "admin":
            raise TagError(f"Only admins change tag categories; {user.username} is {user.role}.")
        if "/" in path and path.rsplit("/", 1)[0] not in _category_map(cur):
            raise TagError(f"The parent category {path.rsplit('/', 1)[0]!r} does not exist yet.")
        before = _category_map(cur).get(path)
        cur.execute("INSERT OR REPLACE INTO tag_categories VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [path, category.name_zh.strip(), category.name_en.strip(), list(category.view_roles),
                     list(category.edit_roles), user.username, utcnow()])
        audit.record(cur, user.username, Event.TAG_CATEGORY, "tag_category", path,
                     {"name_zh": category.name_zh, "name_en": category.name_en,
                      "view_roles": list(category.view_roles), "edit_roles": list(category.edit_roles),
                      "new_category": before is None})


# ---- built-ins -------------------------------------------------------------------------------------------

def ensure_builtins(cur: duckdb.DuckDBPyConnection) -> None:
    """The default categories and the built-in tags (version 1, published, by 'system'), each only
    when its path or code is not in the store yet: edits and retirements stay."""
    now = utcnow()
    have = set(_category_map(cur))
    for cat in DEFAULT_CATEGORIES:
        if cat.path not in have:
            cur.execute("INSERT INTO tag_categories VALUES (?, ?, ?, ?, ?, 'system', ?)",
                        [cat.path, cat.name_zh, cat.name_en, list(cat.view_roles), list(cat.edit_roles), now])
    codes = {r[0] for r in cur.execute("SELECT DISTINCT code FROM tag_definitions").fetchall()}
    for tag in BUILTINS:
        if tag.code not in codes:
            _insert(cur, replace(tag, version=1, status=PUBLISHED, builtin=True, created_by="system", owner="system"),
                    now)


def _insert(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, now) -> None:
    allowed = json.dumps([{"code": a.code, "zh": a.zh, "en": a.en} for a in tag.allowed_values], ensure_ascii=False)
    cur.execute(f"INSERT INTO tag_definitions ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
                [tag.code, tag.version, tag.name_zh, tag.name_en, tag.category, tag.value_type, allowed,
                 tag.business_definition, json.dumps(tag.technical, ensure_ascii=False, sort_keys=True), tag.owner,
                 tag.sensitivity, tag.refresh_cadence, tag.status, tag.builtin, tag.created_by, now, tag.reason])


# ---- naming checks ---------------------------------------------------------------------------------------

def _normalized(name: str, suffixes: tuple[str, ...]) -> str:
    text = name.strip().lower()
    stripped = True
    while stripped:
        stripped = False
        for suffix in suffixes:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, stripped = text[: -len(suffix)].rstrip(), True
    return _PUNCT.sub("", text)


def similar_names(a: str, b: str, lang: str) -> bool:
    """Near-duplicate names: the same, or (Chinese) alike by difflib ratio ≥ 0.8, once the suffix words
    such as 客户/用户/会员/人群 (customer, user, member) and punctuation are gone."""
    na, nb = _normalized(a, _SUFFIXES_ZH if lang == "zh" else _SUFFIXES_EN), \
        _normalized(b, _SUFFIXES_ZH if lang == "zh" else _SUFFIXES_EN)
    if not na or not nb:
        return False
    # English names share long phrases ("in the last 365 days"); only the same words count there
    return na == nb or (lang == "zh" and difflib.SequenceMatcher(None, na, nb).ratio() >= SIMILAR_RATIO)


def _same_name(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _check_unique_name(cur: duckdb.DuckDBPyConnection, tag: TagDefinition) -> None:
    """No two published tags with the same name (Chinese or English) in a category."""
    for other in computed(cur):
        if other.code == tag.code or other.status != PUBLISHED or other.category != tag.category:
            continue
        for mine, theirs in ((tag.name_zh, other.name_zh), (tag.name_en, other.name_en)):
            if _same_name(mine, theirs):
                raise TagError(f"The category {tag.category!r} already has a published tag named {theirs!r}: "
                               f"{other.code}. Choose another name.")


def _canonical(technical: dict[str, Any]) -> str:
    return json.dumps(technical, ensure_ascii=False, sort_keys=True)


def near_duplicates(cur: duckdb.DuckDBPyConnection, tag: TagDefinition) -> list[str]:
    """Warnings: other live tags with a similar name, or the same technical definition."""
    warnings = []
    mine = _canonical(tag.technical)
    for other in _latest(cur).values():
        if other.code == tag.code or other.status == RETIRED:
            continue
        for lang, a, b in (("zh", tag.name_zh, other.name_zh), ("en", tag.name_en, other.name_en)):
            if similar_names(a, b, lang):
                warnings.append(f"The name {a!r} is like {b!r} of the tag {other.code}; is it the same tag?")
                break
        # source-mapped tags share their rule shape: the mapping, not the rule, defines them
        if "source_mapping" not in tag.technical and _canonical(other.technical) == mine:
            warnings.append(f"The technical definition is the same as the tag {other.code}'s.")
    return warnings


# ---- saving and the lifecycle ---------------------------------------------------------------------------

def _require_actor(cur: duckdb.DuckDBPyConnection, actor: str) -> auth.User:
    user = auth.get_user(cur, actor) if actor else None
    if user is None or user.disabled:
        raise TagError(f"{actor!r} is not an active Steward user: pass --actor USER with your user name.")
    return user


def _require_editor(cur: duckdb.DuckDBPyConnection, user: auth.User, category: str) -> None:
    cats = _category_map(cur)
    if category not in cats:
        raise TagError(f"Unknown tag category {category!r}; choose one of {', '.join(cats)}.")
    if user.role not in EDITOR_ROLES:
        raise TagError(f"Only stewards and admins change tags; {user.username} is {user.role}.")
    if not _allowed(cats, user.role, category, edit=True):
        raise TagError(f"The role {user.role} may not edit tags in the category {category!r}.")


def _content(tag: TagDefinition) -> dict[str, Any]:
    data = tag.to_json()
    return {k: data[k] for k in DIFF_FIELDS}


def save(db: Database, actor: str, tag: TagDefinition, reason: str | None = None) -> SaveResult:
    """Save `tag` as a new version in draft; returns the version and near-duplicate warnings. Audited.
    A change to an existing tag needs a reason; a retired tag takes no new versions."""
    check_definition(tag)
    templates.check(tag, utcnow().date())  # what a computation would refuse is refused now
    reason = (reason or "").strip() or None
    with db.transaction() as cur:
        ensure_builtins(cur)
        user = _require_actor(cur, actor)
        _require_editor(cur, user, tag.category)
        _check_references(cur, tag)
        owner = (tag.owner or "").strip() or user.username
        if owner != "system" and auth.get_user(cur, owner) is None:
            raise TagError(f"The owner {owner!r} is not a Steward user.")
        tag = replace(tag, owner=owner)
        versions = _rows(cur, "WHERE code = ?", [tag.code])
        previous = versions[-1] if versions else None
        if previous is not None:
            if previous.status == RETIRED:
                raise TagError(f"The tag {tag.code!r} is retired; give a new definition a new code.")
            if previous.category != tag.category:
                _require_editor(cur, user, previous.category)
            if _content(previous) == _content(tag):
                raise TagError(f"Nothing changed since version {previous.version} of {tag.code!r}.")
            if reason is None:
                raise TagError(f"A new version of {tag.code!r} needs a reason: say why it changes.")
        _check_unique_name(cur, tag)
        warnings = near_duplicates(cur, tag)
        version = previous.version + 1 if previous else 1
        # a draft or a version in review is replaced; a published one stays computed until approval
        cur.execute("UPDATE tag_definitions SET status = ? WHERE code = ? AND status IN (?, ?)",
                    [SUPERSEDED, tag.code, DRAFT, IN_REVIEW])
        _insert(cur, replace(tag, version=version, status=DRAFT, builtin=bool(previous and previous.builtin),
                             created_by=user.username, reason=reason), utcnow())
        audit.record(cur, user.username, Event.TAG_SAVE, "tag", tag.code,
                     {"version": version, "reason": reason, "warnings": warnings,
                      "changed_fields": [d["field"] for d in _diff(previous, tag)] if previous else None})
    return SaveResult(version, warnings)


def _check_references(cur: duckdb.DuckDBPyConnection, tag: TagDefinition) -> None:
    """The tags a rule reads exist, are not retired, and are no more sensitive than the tag itself (else
    its values would show what a sensitive tag holds to whoever may see this one)."""
    rank = {s: i for i, s in enumerate(SENSITIVITIES)}
    for code in sorted(references(tag.technical)):
        versions = _rows(cur, "WHERE code = ?", [code])
        if not versions or versions[-1].status == RETIRED:
            raise TagError(f"The rule reads the tag {code!r}, which does not exist or is retired.")
        read = max((v.sensitivity for v in versions), key=rank.__getitem__)
        if rank[read] > rank[tag.sensitivity]:
            raise TagError(f"The rule reads the {read} tag {code!r}: this tag must be {read} too.")
        if tag.code in _reads(cur, code, set()):
            raise TagError(f"The rule reads the tag {code!r}, which reads this tag in turn.")


def _reads(cur: duckdb.DuckDBPyConnection, code: str, seen: set[str]) -> set[str]:
    """Every tag `code` reads, directly or through others (any of its versions)."""
    for version in _rows(cur, "WHERE code = ?", [code]):
        for other in references(version.technical) - seen:
            seen.add(other)
            _reads(cur, other, seen)
    return seen


def _review(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, action: str, actor: str, comment: str | None) -> None:
    cur.execute("INSERT INTO tag_reviews VALUES (nextval('tag_review_seq'), ?, ?, ?, ?, ?, ?)",
                [tag.code, tag.version, action, actor, utcnow(), comment])


def _set_status(cur: duckdb.DuckDBPyConnection, tag: TagDefinition, status: str) -> None:
    cur.execute("UPDATE tag_definitions SET status = ? WHERE code = ? AND version = ?", [status, tag.code, tag.version])


def submit(db: Database, actor: str, code: str, comment: str | None = None) -> int:
    """Send the newest version, a draft, to review; returns its version. Audited."""
    comment = (comment or "").strip() or None
    with db.transaction() as cur:
        user = _require_actor(cur, actor)
        tag = get(cur, code)
        _require_editor(cur, user, tag.category)
        if tag.status != DRAFT:
            raise TagError(f"Version {tag.version} of {code!r} is {tag.status}; only a draft is submitted for review.")
        _set_status(cur, tag, IN_REVIEW)
        _review(cur, tag, "submit", user.username, comment)
        audit.record(cur, user.username, Event.TAG_SUBMIT, "tag", code, {"version": tag.version, "comment": comment})
    return tag.version


def _decide(db: Database, actor: str, code: str, comment: str, approve: bool) -> int:
    comment = (comment or "").strip()
    if not comment:
        raise TagError(f"{'An approval' if approve else 'A rejection'} needs a comment.")
    with db.transaction() as cur:
        user = _require_actor(cur, actor)
        tag = get(cur, code)
        if tag.status != IN_REVIEW:
            raise TagError(f"Version {tag.version} of {code!r} is {tag.status}, not in review.")
        _require_editor(cur, user, tag.category)
        if auth.normalize_username(tag.created_by) == user.username:
            raise TagError(f"Four eyes: {user.username} wrote version {tag.version} of {code!r}; another steward "
                           f"or admin reviews it.")
        detail: dict[str, Any] = {"version": tag.version, "comment": comment}
        if approve:
            _check_unique_name(cur, tag)
            live = _computed_version(_rows(cur, "WHERE code = ?", [code]))
            if live is not None:
                _set_status(cur, live, SUPERSEDED)
                detail["superseded"] = live.version
            _set_status(cur, tag, PUBLISHED)
        else:
            _set_status(cur, tag, DRAFT)
        _review(cur, tag, "approve" if approve else "reject", user.username, comment)
        audit.record(cur, user.username, Event.TAG_APPROVE if approve else Event.TAG_REJECT, "tag", code, detail)
    return tag.version


def approve(db: Database, actor: str, code: str, comment: str) -> int:
    """Publish the version in review (four eyes); the previous published or deprecated version is
    superseded. Returns the version. Audited with the comment."""
    return _decide(db, actor, code, comment, approve=True)


def reject(db: Database, actor: str, code: str, comment: str) -> int:
    """Return the version in review to draft with the comment (four eyes). Audited."""
    return _decide(db, actor, code, comment, approve=False)


def deprecate(db: Database, actor: str, code: str, comment: str | None = None) -> int:
    """Mark the published version deprecated: still computed, not for new use. Audited."""
    comment = (comment or "").strip() or None
    with db.transaction() as cur:
        user = _require_actor(cur, actor)
        get(cur, code)
        live = _computed_version(_rows(cur, "WHERE code = ?", [code]))
        if live is None or live.status != PUBLISHED:
            raise TagError(f"The tag {code!r} has no published version to deprecate.")
        _require_editor(cur, user, live.category)
        _set_status(cur, live, DEPRECATED)
        _review(cur, live, "deprecate", user.username, comment)
        audit.record(cur, user.username, Event.TAG_DEPRECATE, "tag", code, {"version": live.version, "comment": comment})
    return live.version


def retire(db: Database, actor: str, code: str, comment: str | None = None) -> int:
    """Retire a published or deprecated tag: refused while other tags or saved audiences use it. Its
    values go with `compute.drop_values`, which the pipeline runs in the same transaction
    (`pipeline.retire_tag`); its history stays; newer drafts retire with it. Audited."""
    comment = (comment or "").strip() or None
    with db.transaction() as cur:
        user = _require_actor(cur, actor)
        versions = _rows(cur, "WHERE code = ?", [code])
        if not versions:
            raise TagError(f"No tag {code!r}.")
        live = _computed_version(versions)
        if live is None:
            raise TagError(f"The tag {code!r} is not published or deprecated; only those are retired.")
        _require_editor(cur, user, live.category)
        used = usage(cur, code)
        tags, audiences = ", ".join(used["tags"]), ", ".join(used["audiences"])
        if tags and audiences:
            raise TagError(f"The tag {code!r} cannot be retired: the tags {tags} and the audiences {audiences} use it.")
        if tags:
            raise TagError(f"The tag {code!r} cannot be retired: the tags {tags} use it.")
        if audiences:
            raise TagError(f"The tag {code!r} cannot be retired: the audiences {audiences} use it.")
        cur.execute("UPDATE tag_definitions SET status = ? WHERE code = ? AND version >= ?", [RETIRED, code, live.version])
        _review(cur, live, "retire", user.username, comment)
        audit.record(cur, user.username, Event.TAG_RETIRE, "tag", code, {"version": live.version, "comment": comment})
    return live.version


# ---- history and usage ------------------------------------------------------------------------------------

def versions(cur: duckdb.DuckDBPyConnection, code: str) -> pd.DataFrame:
    """Every version of a tag, newest first: who saved it, when and why, and its status."""
    get(cur, code)
    return cur.execute("SELECT version, status, name_zh, name_en, category, created_by, created_at, reason "
                       "FROM tag_definitions WHERE code = ? ORDER BY version DESC", [code]).df()


def reviews(cur: duckdb.DuckDBPyConnection, code: str) -> pd.DataFrame:
    """Submissions, approvals, rejections, deprecations and retirements with their comments, newest first."""
    return cur.execute("SELECT review_id, version, action, actor, reviewed_at, comment FROM tag_reviews "
                       "WHERE code = ? ORDER BY review_id DESC", [code]).df()


def _diff(old: TagDefinition, new: TagDefinition) -> list[dict[str, Any]]:
    before, after = _content(old), _content(new)
    return [{"field": f, "before": before[f], "after": after[f]} for f in DIFF_FIELDS if before[f] != after[f]]


def diff(cur: duckdb.DuckDBPyConnection, code: str, old: int, new: int) -> list[dict[str, Any]]:
    """The fields that differ between two versions: [{field, before, after}]."""
    return _diff(get(cur, code, old), get(cur, code, new))


def references(node: Any) -> set[str]:
    """The tag codes a technical definition or condition reads ({"tag": code, …} anywhere in it)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("tag"), str):
            found.add(node["tag"])
        for value in node.values():
            found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def _has_table(cur: duckdb.DuckDBPyConnection, table: str, *columns: str) -> bool:
    have = {r[0] for r in cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                      "AND table_schema = 'main' AND table_catalog = current_database()",
                                      [table]).fetchall()}
    return bool(have) and set(columns) <= have


def usage(cur: duckdb.DuckDBPyConnection, code: str) -> dict[str, Any]:
    """What uses a tag: other live tags whose rule reads it (their computed or newest version), saved
    audiences whose rule reads it, and the number of exports of its values."""
    by_code: dict[str, list[TagDefinition]] = {}
    for tag in _rows(cur, "WHERE code <> ?", [code]):
        by_code.setdefault(tag.code, []).append(tag)
    tags = sorted(other for other, vs in by_code.items() if vs[-1].status != RETIRED
                  and any(code in references(t.technical) for t in (vs[-1], _computed_version(vs)) if t))
    audiences: list[str] = []
    if _has_table(cur, "audiences", "name", "rule"):
        for name, rule in cur.execute("SELECT name, rule FROM audiences ORDER BY name").fetchall():
            try:
                parsed = json.loads(rule) if isinstance(rule, str) else rule
            except ValueError:
                continue
            if code in references(parsed):
                audiences.append(str(name))
    exports = 0
    for (flt,) in cur.execute("SELECT filter FROM export_manifests WHERE dataset = 'tag_values'").fetchall():
        try:
            parsed = json.loads(flt)
        except (TypeError, ValueError):
            parsed = flt
        if isinstance(parsed, dict) and code in (parsed.get("tags") or ()):  # exports.datasets' filter
            exports += 1
    return {"tags": tags, "audiences": audiences, "exports": exports}
