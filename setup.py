"""Build pgatomic for Python: the C core (core/src) and the binding
(bindings/python) compiled into one extension, pgatomic._pgatomic, linked
against libpq found with pg_config.

    python3 -m pip install --no-build-isolation .      (or -e .)

There is no pyproject.toml on purpose: pip then builds with the setuptools
already installed, without fetching a build environment from the network.
"""

import glob
import os
import shutil
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))


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

setup(
    name="pgatomic",
    version="0.1.0",
    description="Django's transaction.atomic for PostgreSQL, on a C core over libpq",
    package_dir={"": "python"},
    packages=["pgatomic", "pgatomic.django"],
    package_data={"pgatomic": ["py.typed", "*.pyi"]},
    ext_modules=[extension],
    # create_engine("postgresql+pgatomic://...") finds the dialect here.
    entry_points={
        "sqlalchemy.dialects": [
            "postgresql.pgatomic = pgatomic.sqlalchemy:PGDialect_pgatomic",
        ],
    },
    python_requires=">=3.9",
    zip_safe=False,
    options={"build": {"build_base": "out/python"}},   # beside make's out/
)
