"""The store: frozen migrations against a checked-in schema snapshot, the upgrade of a store made
by an earlier release, and transactions that join into one unit of work."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from governance.store import migrations
from governance.store.storage import Database, arrow_view, open_database, relation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SNAPSHOT = FIXTURES / "schema_snapshot.txt"
OLD_STORE = FIXTURES / "store_main_v11"  # EXPORT DATABASE of a small demo store made by the release with 11 migrations
# Rows later migrations seed into an existing store: migration 12's default quality rules (other_id,
# age_band) and masking policies of the other_id class (one per role).
SEEDED_SINCE_V11 = {"main.quality_rules": 2, "main.masking_policies": 3}


def schema_of(cur: duckdb.DuckDBPyConnection, view_sql: bool = True) -> list[str]:
    """Every table (columns, types, NOT NULL, defaults), view, sequence and index outside `raw`, as text."""
    out = [f"TABLE {schema}.{table} (" + ", ".join(cols) + ")" for schema, table, cols in cur.execute(
        "SELECT schema_name, table_name, list(column_name || ' ' || data_type || CASE WHEN is_nullable THEN '' "
        "ELSE ' NOT NULL' END || coalesce(' DEFAULT ' || column_default, '') ORDER BY column_index) "
        "FROM duckdb_columns() WHERE NOT internal AND schema_name <> 'raw' AND table_name IN "
        "(SELECT table_name FROM duckdb_tables() WHERE NOT internal) GROUP BY ALL ORDER BY 1, 2").fetchall()]
    out += [f"VIEW {schema}.{view}" + (": " + re.sub(r"\s+", " ", sql) if view_sql else "") for schema, view, sql in
            cur.execute("SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal ORDER BY 1, 2").fetchall()]
    out += [f"SEQUENCE {name}" for (name,) in cur.execute("SELECT sequence_name FROM duckdb_sequences() ORDER BY 1").fetchall()]
    out += [f"INDEX {name}: {sql}" for name, sql in cur.execute("SELECT index_name, sql FROM duckdb_indexes() ORDER BY 1").fetchall()]
    return out


def test_migrations_build_the_snapshot_schema(tmp_path):
    """Applied from migration 1 upward, the migrations give exactly the checked-in schema. A schema
    change needs a new migration and a new snapshot (`python tests/unit/test_store.py` writes it)."""
    db = Database(tmp_path / "fresh.duckdb")
    with db.cursor() as cur:
        versions = [r[0] for r in cur.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]
        assert versions == [m.version for m in migrations.migrations()] == list(range(1, len(versions) + 1))
        assert schema_of(cur) == SNAPSHOT.read_text(encoding="utf-8").splitlines()
        assert migrations.apply(cur) == []
    db.close()


def test_migrations_import_no_stage():
    source = (Path(migrations.__file__)).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import) governance\.(?!store)", source, re.M)


def _old_store(path: Path) -> dict[str, int]:
    """Build the earlier release's store from its export; return its row count per table."""
    con = duckdb.connect(str(path))
    con.execute((OLD_STORE / "schema.sql").read_text(encoding="utf-8"))
    load = (OLD_STORE / "load.sql").read_text(encoding="utf-8")
    con.execute(re.sub(r"FROM '([^']+)'", lambda m: f"FROM '{OLD_STORE / m.group(1)}'", load))
    counts = {f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in
              con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal").fetchall()}
    con.close()
    return counts


def test_a_store_from_the_earlier_release_opens_without_losing_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    before = _old_store(path)
    assert before["main.std_records"] > 0 and before["main.crosswalk"] > 0 and before["raw.batch_1"] > 0
    db = open_database(path)
    with db.cursor() as cur:
        after = {t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
        # the same schema as a fresh store (views compared by name: mapped_records follows the data)
        assert schema_of(cur, view_sql=False) == [re.sub(r"^(VIEW [^:]+):.*", r"\1", line) for line in
                                                  SNAPSHOT.read_text(encoding="utf-8").splitlines()]
        oneids = cur.execute("SELECT count(DISTINCT oneid) FROM golden_records").fetchone()[0]
    db.close()
    changed = {t: after[t] - before[t] for t in before if t != "main.schema_migrations" and after[t] != before[t]}
    assert changed == SEEDED_SINCE_V11 and after["main.schema_migrations"] >= before["main.schema_migrations"]
    assert oneids == before["main.golden_wide"]


def test_an_upgraded_store_keeps_its_mapped_records_and_takes_the_new_fields(tmp_path):
    """Migration 12 adds other_id and age_band: the store's mapped_records (built from its batches)
    still reads every row, with the new fields empty, until the next ingest rebuilds it; rows
    standardized before are 'missing' in the new fields, and new uploads fill them."""
    from governance import pipeline

    path = tmp_path / "old.duckdb"
    _old_store(path)
    con = duckdb.connect(str(path))
    mapped = con.execute("SELECT source, row_number, mobile FROM mapped_records ORDER BY ALL").fetchall()
    con.close()
    db = open_database(path)
    with db.cursor() as cur:
        assert cur.execute("SELECT source, row_number, mobile FROM mapped_records ORDER BY ALL").fetchall() == mapped
        assert cur.execute("SELECT count(*) FROM mapped_records WHERE other_id IS NOT NULL OR age_band IS NOT NULL"
                           ).fetchone() == (0,)
        assert cur.execute("SELECT DISTINCT other_id_status, age_band_status FROM std_records").fetchall() == [
            ("missing", "missing")]
        assert cur.execute("SELECT count(*) FROM golden_records WHERE other_id IS NOT NULL").fetchone() == (0,)
    file = tmp_path / "p.csv"
    file.write_text("姓名,手机号,护照号,年龄段\n张三,13912345678,E12345678,90后\n", encoding="utf-8")
    pipeline.load_file(db, "t", file, source="travel")
    with db.cursor() as cur:
        assert cur.execute("SELECT other_id, age_band, age_birth_min FROM std_records WHERE source = 'travel'").fetchall() == [
            ("E12345678", "1990-1999", 1990)]
        assert cur.execute("SELECT count(*) FROM mapped_records").fetchone()[0] == len(mapped) + 1
        assert not cur.execute("SELECT 1 FROM duckdb_views() WHERE view_name = 'mapped_records_v11'").fetchall()
    pipeline.resolve(db, "t")
    with db.cursor() as cur:
        assert cur.execute("SELECT other_id, age_band FROM golden_records WHERE other_id IS NOT NULL").fetchall() == [
            ("E12345678", "1990-1999")]
    db.close()


def test_other_ids_start_from_the_masking_the_store_gives_resident_ids(tmp_path):
    """An admin who hid resident IDs from analysts keeps other ID numbers hidden from them after the upgrade."""
    path = tmp_path / "old.duckdb"
    _old_store(path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE masking_policies SET method = 'hidden', keep_start = NULL, keep_end = NULL "
                "WHERE sensitivity_class = 'id_card' AND role = 'analyst'")
    con.close()
    db = open_database(path)
    with db.cursor() as cur:
        rows = cur.execute("SELECT role, method, keep_start, keep_end, updated_by FROM masking_policies "
                           "WHERE sensitivity_class = 'other_id' ORDER BY role").fetchall()
    db.close()
    assert rows == [("admin", "partial", 1, 3, "system"), ("analyst", "hidden", None, None, "system"),
                    ("steward", "partial", 1, 3, "system")]


def test_a_transaction_inside_another_joins_it(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as outer:
            with db.transaction() as inner:
                assert inner is outer
                inner.execute("CREATE TABLE t_joined (x INTEGER)")
            with db.cursor() as read:  # a read inside sees the unit of work's own writes
                assert read is outer and read.execute("SELECT count(*) FROM t_joined").fetchone() == (0,)
            raise RuntimeError("the whole unit of work rolls back")
    with db.cursor() as cur:
        assert not cur.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 't_joined'").fetchall()
    with db.transaction() as cur:
        cur.execute("CREATE TABLE t_joined (x INTEGER)")
        db.checkpoint()  # deferred until the commit
    with db.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM t_joined").fetchone() == (0,)


def test_a_relation_opens_after_a_result_left_unfinished(db):
    with db.cursor() as cur:
        cur.execute("CREATE TEMP TABLE t_many AS SELECT range AS i FROM range(5000)")
        assert cur.execute("SELECT i FROM t_many ORDER BY i").fetchone() == (0,)  # the rest is left unread
        with pytest.raises(duckdb.Error, match="unfinished result"):
            cur.sql("SELECT 1").fetchall()
        assert relation(cur, "SELECT count(*) FROM t_many WHERE i >= ?", [4990]).fetchall() == [(10,)]
        assert relation(cur, "SELECT 2").fetchall() == [(2,)]  # nothing pending: the same
        assert cur.execute("SELECT i FROM t_many ORDER BY i").fetchone() == (0,)
        with pytest.raises(duckdb.Error, match="unfinished result"):
            cur.register("t_arrow", pa.table({"i": [1, 2]}))
        with arrow_view(cur, "t_arrow", pa.table({"i": [1, 2]})):
            assert cur.execute("SELECT sum(i) FROM t_arrow").fetchall() == [(3,)]
        with pytest.raises(duckdb.Error):  # gone after the block
            cur.execute("SELECT * FROM t_arrow")


def test_migration_names_and_numbers_are_checked(tmp_path, monkeypatch):
    bad = tmp_path / "sql"
    bad.mkdir()
    for m in migrations.migrations():
        (bad / m.path.name).write_text(m.sql, encoding="utf-8")
    gap = len(migrations.migrations()) + 2
    (bad / f"{gap:04d}_gap.sql").write_text(f"-- {gap}: a gap\nSELECT 1;\n", encoding="utf-8")
    monkeypatch.setattr(migrations, "SQL_DIR", bad)
    with pytest.raises(RuntimeError, match="without gaps"):
        migrations.migrations()


def test_reopen_applies_a_new_migration_and_keeps_data(tmp_path, monkeypatch):
    path = tmp_path / "m.duckdb"
    db = open_database(path)
    with db.transaction() as cur:
        cur.execute("INSERT INTO sources VALUES ('s', 'crm', NULL, NULL, 't', now()::TIMESTAMP)")
    db.close()
    sql = tmp_path / "sql"
    sql.mkdir()
    for m in migrations.migrations():
        (sql / m.path.name).write_text(m.sql, encoding="utf-8")
    n = len(migrations.migrations()) + 1
    (sql / f"{n:04d}_extra.sql").write_text(f"-- {n}: test migration\nCREATE TABLE test_extra (x INTEGER);\n")
    monkeypatch.setattr(migrations, "SQL_DIR", sql)
    db = open_database(path)
    with db.cursor() as cur:
        assert cur.execute("SELECT max(version), max(name) FILTER (WHERE version = ?) FROM schema_migrations",
                           [n]).fetchone() == (n, "test migration")
        assert cur.execute("SELECT count(*) FROM test_extra").fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM sources").fetchone()[0] == 1
    db.close()


if __name__ == "__main__":  # write the snapshot after adding a migration
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        database = Database(Path(scratch) / "snapshot.duckdb")
        with database.cursor() as c:
            SNAPSHOT.write_text("\n".join(schema_of(c)) + "\n", encoding="utf-8")
        database.close()
