"""pgatomic's pytest plugin (pgatomic.pytest_plugin, the pytest11 entry point
pip installs): a throwaway server when no DSN is given, a throwaway
database on a given server, and each test in a transaction rolled back
afterwards.  Each case runs pytest in a subprocess on a small test file."""

import os
import re
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent('''
    import pgatomic

    def test_writes(pgatomic_db):
        pgatomic_db.execute("CREATE TABLE probe (x int)")
        with pgatomic.atomic():                       # a savepoint of the test's
            pgatomic_db.execute("INSERT INTO probe VALUES (1)")
        assert pgatomic_db.execute("SELECT count(*) FROM probe").scalar() == 1
        assert pgatomic.connection.in_atomic_block

    def test_sees_nothing_of_the_last(pgatomic_db):
        assert pgatomic_db.execute("SELECT to_regclass('probe')").scalar() is None

    def test_the_database(pgatomic_dsn):
        with pgatomic.connect(pgatomic_dsn) as c:
            print("DATABASE", c.execute("SELECT current_database()").scalar())
            print("SOCKET", c.execute("SHOW unix_socket_directories").scalar())
''')


def run_pytest(tmp_path, *args, env_drop=(), env_add=None):
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {k: v for k, v in os.environ.items()
           if k not in env_drop and not (k.startswith("PG") and "PG" in env_drop)}
    env.update(env_add or {})
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                          str(tmp_path / "test_probe.py"), *args],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    return out.returncode, out.stdout + out.stderr


def field(output, name):
    return re.search(rf"{name} (\S+)", output).group(1)


def test_plugin_starts_a_throwaway_server_without_a_dsn(tmp_path):
    rc, output = run_pytest(tmp_path, env_drop=("DATABASE_URL", "PGATOMIC_TEST_DSN", "PG"))
    assert rc == 0, output
    assert "3 passed" in output
    socket_dir = field(output, "SOCKET")
    assert "pgatomic-pytest." in socket_dir
    assert not os.path.exists(socket_dir)             # stopped and removed
    assert field(output, "DATABASE").startswith("pgatomic_test_")


def test_plugin_makes_a_throwaway_database_on_a_given_server(tmp_path, pgatomic_dsn, conn):
    rc, output = run_pytest(tmp_path, f"--pgatomic-dsn={pgatomic_dsn}", "--pgatomic-fresh-db")
    assert rc == 0, output
    name = field(output, "DATABASE")
    assert name.startswith("pgatomic_test_")
    assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = $1",
                        [name]).scalar() == 0      # dropped at the end


def test_plugin_uses_the_given_database_and_leaves_it_clean(tmp_path, pgatomic_dsn, conn):
    here = conn.execute("SELECT current_database()").scalar()
    rc, output = run_pytest(tmp_path, env_add={"PGATOMIC_TEST_DSN": pgatomic_dsn})
    assert rc == 0, output
    assert field(output, "DATABASE") == here
    assert conn.execute("SELECT to_regclass('probe')").scalar() is None
