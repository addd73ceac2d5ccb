"""Packaging from a clean checkout, as a new user does it: `pip install .` in
a fresh venv with build isolation (PEP 517: pyproject.toml; the build
environment comes from PyPI), and `python -m build`, whose wheel installs
too.  Neither writes into the source tree, and the installed package works
(it imports, connects, and brings its pytest plugin)."""

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*cmd, cwd, timeout=900):
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(cmd)}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def snapshot(root):
    """Every path under root, so a build that writes anything shows."""
    found = set()
    for d, dirs, files in os.walk(root):
        found.update(os.path.relpath(os.path.join(d, n), root) for n in dirs + files)
    return found


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """What a clean clone holds: the tracked files and the new ones git
    would not ignore, copied away from this tree's build outputs."""
    dst = tmp_path_factory.mktemp("checkout") / "pgatomic"
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                 cwd=REPO)
    for rel in filter(None, listed.split("\0")):
        src = os.path.join(REPO, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dst, rel))
    return str(dst)


def fresh_venv(path):
    run(sys.executable, "-m", "venv", str(path), cwd="/")
    return os.path.join(str(path), "bin", "python")


SMOKE = ("import os, pgatomic; "
         "c = pgatomic.connect(os.environ.get('DATABASE_URL')); "
         "print('ok', c.execute('SELECT 40 + 2').scalar())")


def test_pip_install_in_a_fresh_venv_with_build_isolation(checkout, tmp_path, pgatomic_dsn):
    before = snapshot(checkout)
    python = fresh_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", ".", cwd=checkout)
    assert snapshot(checkout) == before
    env_run = subprocess.run([python, "-c", SMOKE], capture_output=True, text=True,
                             cwd=str(tmp_path), env={**os.environ, "DATABASE_URL": pgatomic_dsn})
    assert env_run.stdout.strip() == "ok 42", env_run.stderr
    plugins = run(python, "-c", "from importlib.metadata import entry_points; "
                  "print([e.value for e in entry_points(group='pytest11')])", cwd=str(tmp_path))
    assert "pgatomic.pytest_plugin" in plugins


def test_python_m_build_makes_an_sdist_and_a_wheel(checkout, tmp_path):
    before = snapshot(checkout)
    python = fresh_venv(tmp_path / "venv")
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "build",
        cwd=str(tmp_path))
    dist = tmp_path / "dist"
    run(python, "-m", "build", "--outdir", str(dist), ".", cwd=checkout)
    assert snapshot(checkout) == before
    names = sorted(os.listdir(dist))
    assert any(n.endswith(".tar.gz") for n in names) and any(n.endswith(".whl") for n in names)
    wheel = next(str(dist / n) for n in names if n.endswith(".whl"))
    run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel,
        cwd=str(tmp_path))
    assert "ok" in run(python, "-c", "import pgatomic._pgatomic; print('ok')", cwd=str(tmp_path))
