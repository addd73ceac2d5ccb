"""Build pgatomic for Python: the C core (core/src) and the binding
(bindings/python) compiled into one extension, pgatomic._pgatomic, linked
against libpq found with pg_config.

    python3 -m pip install .            (PEP 517, pyproject.toml)
    python3 -m build --outdir DIR       (sdist and wheel)

pyproject.toml names the build backend, so both work in a fresh venv with
build isolation; scripts/install-python-package.sh passes
--no-build-isolation to build offline with the setuptools installed.
Nothing is written into the source tree: build files (objects, the
egg-info) go to PGATOMIC_BUILD_DIR, by default a directory of this checkout's
own under the system's temporary directory, kept between builds so an
unchanged tree is not compiled again.
"""

import glob
import hashlib
import os
import shutil
import subprocess
import tempfile

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_DIR = os.environ.get("PGATOMIC_BUILD_DIR") or os.path.join(
    tempfile.gettempdir(), "pgatomic-build-" + hashlib.sha256(HERE.encode()).hexdigest()[:12])


def pg_config(flag, fallback):
    exe = os.environ.get("PG_CONFIG") or shutil.which("pg_config")
    if exe:
        try:
            out = subprocess.run([exe, flag], check=True, capture_output=True, text=True)
            value = out.stdout.strip()
            if value:
                return value
        except (OSError, subprocess.CalledProcessError):
            pass
    return fallback


def sources():
    # Relative paths, as setuptools wants; object files keep their
    # directories, so core/src/result.c and bindings/python/result.c differ.
    found = []
    for pattern in ("core/src/*.c", "bindings/python/*.c"):
        found += sorted(os.path.relpath(p, HERE)
                        for p in glob.glob(os.path.join(HERE, pattern)))
    return found


pg_include = pg_config("--includedir", "/usr/include/postgresql")
pg_libdir = pg_config("--libdir", "/usr/lib/x86_64-linux-gnu")

extension = Extension(
    "pgatomic._pgatomic",
    sources=sources(),
    depends=sorted(glob.glob("core/include/*.h") + glob.glob("core/src/*.h")
                   + glob.glob("bindings/python/*.h")),
    include_dirs=["core/include", "core/src", pg_include],
    library_dirs=[pg_libdir],
    runtime_library_dirs=[pg_libdir],
    libraries=["pq"],
    # The core is C11 with POSIX 2008 (poll, strdup); the same flags as the
    # Makefile's, applied to the binding too since setuptools cannot set
    # flags per file.  No -Werror: a user's compiler must not fail the
    # install over a new warning (CI builds the core with -Werror).
    extra_compile_args=["-std=c11", "-D_POSIX_C_SOURCE=200809L",
                        "-fvisibility=hidden", "-Wall", "-Wextra",
                        "-Wno-missing-field-initializers"],
)

def _egg_base():
    os.makedirs(BUILD_DIR, exist_ok=True)
    # setuptools wants egg_base relative to the project directory.
    return os.path.relpath(BUILD_DIR, HERE)


setup(
    name="pgatomic",
    version="0.1.0",
    description="Django's transaction.atomic for PostgreSQL, on a C core over libpq",
    package_dir={"": "python"},
    packages=["pgatomic", "pgatomic.django"],
    package_data={"pgatomic": ["py.typed", "*.pyi"]},
    ext_modules=[extension],
    entry_points={
        # create_engine("postgresql+pgatomic://...") finds the dialect here.
        "sqlalchemy.dialects": [
            "postgresql.pgatomic = pgatomic.sqlalchemy:PGDialect_pgatomic",
            "postgresql.pgatomic_async = pgatomic.sqlalchemy:PGDialectAsync_pgatomic",
        ],
        # The test database fixtures (pgatomic_dsn, pgatomic_db), loaded by
        # pytest wherever pgatomic is installed.
        "pytest11": ["pgatomic = pgatomic.pytest_plugin"],
    },
    python_requires=">=3.9",
    zip_safe=False,
    options={"build": {"build_base": BUILD_DIR}, "egg_info": {"egg_base": _egg_base()}},
)
