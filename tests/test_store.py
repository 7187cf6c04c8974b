"""The DuckDB store survives its creator dying: a file created by a process killed before its schema
landed (found by the daemon test's killed shot run: every later run failed "Table generations does not
exist", because readers open an existing file read-only and never migrate), and a file on an older schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from vidpipe.store import MIGRATIONS, Store

KILLED_CREATOR = "import duckdb, os, signal, sys; duckdb.connect(sys.argv[1]); os.kill(os.getpid(), signal.SIGKILL)"


def test_a_file_whose_creator_was_killed_is_migrated_by_its_first_reader(tmp_path: Path) -> None:
    db = tmp_path / "vidpipe.duckdb"
    proc = subprocess.run([sys.executable, "-c", KILLED_CREATOR, str(db)])
    assert proc.returncode == -9 and db.exists()  # a real file, no tables in it
    store = Store(db)
    assert store.query("SELECT count(*) AS n FROM generations") == [{"n": 0}]
    assert store.query("SELECT max(version) AS v FROM schema_version") == [{"v": len(MIGRATIONS)}]


def test_a_reader_brings_an_older_schema_up_to_date(tmp_path: Path) -> None:
    db = tmp_path / "vidpipe.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_version (version INTEGER)")
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO schema_version VALUES (1)")
    con.close()
    store = Store(db)
    assert store.query("SELECT max(version) AS v FROM schema_version") == [{"v": len(MIGRATIONS)}]
    assert store.query("SELECT count(*) AS n FROM decisions") == [{"n": 0}]  # a table of a later migration
