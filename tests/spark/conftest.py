"""Spark fixtures: one local SparkSession for the whole run (Splink's own test settings for a fast
local Spark), a scratch folder per test, and a small store whose records reach every level of the
name, mobile, e-mail, birth date, address and age comparisons, with a model trained on DuckDB."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pytest

from governance import pipeline, synth
from governance.oneid import model
from governance.oneid import spark as engine
from governance.sources import ingest
from governance.store.storage import open_database

# Splink's tests/conftest.py (_make_spark): one partition, no UI, no adaptive execution, no
# constraint propagation (buggy across unions with checkpoints, and no use on tiny data)
SPLINK_TEST_CONF = {
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.constraintPropagation.enabled": "false",
}

ID = "11010519491231002X"
# Pairs that share an e-mail (so they are blocked) and reach the levels of the comparisons: name,
# mobile, e-mail, birth date, resident and other ID, address (within a district) and age (a band
# against a birth date). Columns: name, mobile, e-mail, birthday, district, address, age, ID, passport.
CRAFTED_ROWS = [
    ("张伟", "13912345678", "a@x.com", "1990-05-12", "朝阳区", "北京市朝阳区建国路1号3栋2单元501室", "", ID, "E12345678"),
    ("张伟", "13912345678", "a@x.com", "1990-05-12", "朝阳区", "北京市朝阳区建国路1号3栋2单元501室", "", ID, "E12345678"),
    ("章伟", "13812345671", "b@x.com", "1991-05-01", "海淀区", "北京市海淀区中关村大街8号4栋1单元302室", "", "", "E23456789"),
    ("张伟", "13912345671", "b@x.com", "1991-05-20", "海淀区", "北京市海淀区中关村大街8号4栋1单元303室", "", "", "E23456798"),
    ("魏章", "13712345678", "c@x.com", "1985-03-12"),  # pinyin reversed, mobile typo, birth date typo
    ("张伟", "13712345687", "c@x.com", "1985-04-12", "", "", "30-45"),  # an age band that fits
    ("张伟明", "136****5678", "d@x.com", "1970-01-01"),  # pinyin similar, masked mobile
    ("张伟民", "13612345678", "d@x.com", "1980-02-02", "", "", "20-25"),  # an age band that does not fit
    ("张伟明", "13512340000", "e@x.com"), ("张军明", "15098765432", "e@x.com"),  # one character differs
    ("张伟", "", "f@x.com"), ("赵文", "", "f@x.com"),  # initials
    ("张先生", "", "g@x.com"), ("张伟", "", "g@x.com"),  # surname only
    ("张伟", "", "h@x.com"), ("李娜", "", "h@x.com"),  # other names
    ("", "", "i@x.com"), ("张伟", "", "i@x.com"),  # no name
    ("王芳", "13311112222", "wf@x.com"), ("王芳", "13311112222", "wf@y.com"),  # e-mail typo
    ("李强", "13322223333", "lq@x.com"), ("李强", "13322223333", "qiang.li@y.com"),  # other e-mails
    ("肖梦玲", "", "", "10-26"), ("肖梦玲", "", "", "1984-10-26"),  # a birthday without its year, blocked on it alone
]
CRAFTED = "姓名,手机,邮箱,生日,区县,地址,年龄,身份证,护照\n" + "".join(",".join(row + ("",) * (9 - len(row))) + "\n"
                                                              for row in CRAFTED_ROWS)
# People named in separate given / family fields (Jaro-Winkler, swapped names, street, suburb, postcode)
LATIN = """rec_id,given_name,surname,date_of_birth,address_1,suburb,postcode
l1,michaela,neumann,19710305,8 banksia street,red hill,2606
l2,micheala,neumann,19710305,8 bansksia street,red hill,2606
l3,neumann,michaela,19710305,8 banksia st,redhill,2607
l4,michael,newman,19710305,18 banksia road,weston,2611
l5,mike,nolan,19710305,3 kent avenue,kambah,2902
"""


@dataclasses.dataclass(frozen=True)
class Trained:
    records: pa.Table
    model: dict


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    """150 generated customers plus CRAFTED and LATIN, standardized; the model trained on them."""
    folder = tmp_path_factory.mktemp("oneid")
    db = open_database(folder / "store.duckdb")
    try:
        workspace = synth.generate_workspace(150, seed=5)
        for spec, path in zip(workspace.files, synth.write_workspace(workspace, folder / "files")):
            ingest.ingest_file(db, path, actor="t", source=spec.source, channel=spec.channel)
        (folder / "crafted.csv").write_text(CRAFTED, encoding="utf-8")
        ingest.ingest_file(db, folder / "crafted.csv", actor="t", source="crafted", channel="crm")
        (folder / "latin.csv").write_text(LATIN, encoding="utf-8")
        ingest.ingest_file(db, folder / "latin.csv", actor="t", source="latin", channel="other")
        pipeline.standardize(db, "t")
        records = model._input(db)
    finally:
        db.close()
    return Trained(records, model.train(records))


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """The process's SparkSession (governance.oneid.spark starts it), with SPLINK_TEST_CONF."""
    options = engine.SparkOptions(master="local[2]", conf=SPLINK_TEST_CONF)
    session = engine.session(options)
    yield session
    engine.stop()


@pytest.fixture
def spark_options(spark_session, tmp_path: Path) -> engine.SparkOptions:
    """Options that reuse the running session, with this test's own scratch folder."""
    return engine.SparkOptions(master="local[2]", conf=SPLINK_TEST_CONF, scratch=tmp_path / "spark")


def pytest_collection_modifyitems(items):
    """Under `pytest -n N --dist loadgroup` every Spark test runs on one worker: one JVM, one session."""
    for item in items:
        if "tests/spark/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("spark"))
