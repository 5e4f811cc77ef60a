"""`export` killed -9 part-way leaves no readable file with personal data: only private (0600) part
files beside the destination, named for the killed process, nothing in the system temp folder, and
the unmasked export on record. The next export into that folder removes those leftovers."""
from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys

import pytest
from chaos_kit import copy_store, query, run_cli, stop_at

from governance.store import tabular

UNMASKED = ("--actor", "steward", "--unmasked", "--purpose", "audit sample")


@pytest.fixture
def store(resolved_store, tmp_path):
    return copy_store(resolved_store, tmp_path / "store")


@pytest.fixture
def folders(tmp_path) -> tuple:
    """(the export folder, a folder the command gets as its system temp folder, TMPDIR)."""
    out, system_tmp = tmp_path / "out", tmp_path / "system-tmp"
    out.mkdir()
    system_tmp.mkdir()
    return out, system_tmp


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_killed_unmasked_export_leaves_private_parts_on_record_and_the_next_export_sweeps_them(store, folders, fmt):
    out, system_tmp = folders
    env = {"TMPDIR": str(system_tmp)}
    killed = stop_at("export.writing", store, "export", "golden", "--out", str(out / f"golden.{fmt}"), *UNMASKED, env=env)

    left = names(out)
    part = re.compile(rf"\.golden\.{fmt}(\.manifest\.json)?{re.escape(tabular.PART_TAG)}{killed.pid}-\w+(\.sheet)?")
    assert left and [n for n in left if not part.fullmatch(n)] == []  # no golden.csv, no .part, no manifest
    assert {stat.S_IMODE((out / n).stat().st_mode) for n in left} == {0o600}
    assert names(system_tmp) == []  # XLSX kept its sheet beside the destination
    (actor, detail), = query(store, "SELECT actor, detail FROM audit_log WHERE action = 'pii.export_start'")
    started = json.loads(detail)
    assert (actor, started["dataset"], started["file"], started["purpose"]) == ("steward", "golden", f"golden.{fmt}",
                                                                                "audit sample")
    assert query(store, "SELECT count(*) FROM audit_log WHERE action = 'export.unmasked'") == [(0,)]

    done = run_cli(store, "export", "golden", "--out", str(out / "next.csv"), env=env)
    assert done.returncode == 0, done.stderr
    assert names(out) == ["next.csv", "next.csv.manifest.json"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_export_removes_what_it_wrote(store, folders, sig):
    out, system_tmp = folders
    interrupted = stop_at("export.writing", store, "export", "golden", "--out", str(out / "golden.xlsx"), *UNMASKED,
                          env={"TMPDIR": str(system_tmp)}, sig=sig)
    assert interrupted.returncode == 130
    assert names(out) == [] and names(system_tmp) == []


def test_the_sweep_removes_only_parts_of_processes_that_are_gone(tmp_path):
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)
    theirs = [f".a.csv{tabular.PART_TAG}{gone}-k3j", f".a.xlsx{tabular.PART_TAG}{gone}-q9_.sheet"]
    kept = [f".b.csv{tabular.PART_TAG}{os.getpid()}-x1y", "a.csv", ".a.csv.part", f"a{tabular.PART_TAG}{gone}-z"]
    for name in theirs + kept:
        (tmp_path / name).write_text("张三,13800138000")
    assert sorted(p.name for p in tabular.sweep_parts(tmp_path)) == sorted(theirs)
    assert names(tmp_path) == sorted(kept)
