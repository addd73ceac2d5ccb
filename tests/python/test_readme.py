"""The README's Python examples run exactly as printed: each ```python block
of README.md runs in a fresh interpreter against a throwaway database named
by DATABASE_URL, as a new user would paste it."""

import os
import re
import subprocess
import sys
import uuid

import pytest

import pgatomic

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def python_blocks():
    with open(README, encoding="utf-8") as f:
        return re.findall(r"^```python\n(.*?)^```", f.read(), re.S | re.M)


def url_of(dsn, dbname):
    with pgatomic.connect(dsn) as c:
        info = c.execute("SELECT current_setting('unix_socket_directories'),"
                         " current_setting('port'), current_user").rows[0]
        host = os.environ.get("PGHOST") or info[0].split(",")[0].strip()
        # Through a pooler PG* name the pooler, not the server behind it.
        port = os.environ.get("PGPORT") or info[1]
    return f"postgresql://{info[2]}@/{dbname}?host={host}&port={port}"


@pytest.fixture
def fresh_database(pgatomic_dsn):
    name = f"readme_{uuid.uuid4().hex[:10]}"
    with pgatomic.connect(pgatomic_dsn) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield url_of(pgatomic_dsn, name)
    with pgatomic.connect(pgatomic_dsn) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_readme_has_python_examples():
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert any("transaction.atomic()" in b for b in blocks)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_example_runs_as_printed(index, fresh_database, tmp_path):
    code = python_blocks()[index]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["DATABASE_URL"] = fresh_database
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    if "on_commit" in code:
        assert "committed" in out.stdout
