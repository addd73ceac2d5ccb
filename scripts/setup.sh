#!/usr/bin/env bash
# setup.sh -- install what pgatomic needs that this machine lacks: Debian
# packages, the Python dev requirements, the npm dependencies (which build the
# Node addon).  Idempotent; with everything present it needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }

# node-gyp must build against the installed headers (/usr/include/node):
# only the package registries are reachable, never the headers tarball site.
export npm_config_nodedir=${npm_config_nodedir:-/usr}

installed() {
    # dpkg -s alone succeeds for a removed package whose config files remain.
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# --- Debian packages ---------------------------------------------------------
# valgrind for `make valgrind`; build-essential brings gcc's libasan/libubsan
# for `make asan`; postgresql-15 is the server scripts/pgtmp starts;
# pgbouncer (Debian's 1.18) is the pooler the deployment tests and the
# pooled suites run through.
want=(build-essential libpq-dev postgresql-15 valgrind ca-certificates pgbouncer)

# Python.h of the python3 actually in use (pyenv's has its own); python3-dev
# only helps when that python3 is Debian's.
if ! command -v python3 >/dev/null; then
    want+=(python3 python3-dev python3-pip)
else
    py_inc=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
    [ -f "$py_inc/Python.h" ] || want+=(python3-dev)
    python3 -m pip --version >/dev/null 2>&1 || want+=(python3-pip)
    # tests/python/test_packaging.py builds in a fresh venv (Debian splits
    # ensurepip out of python3).
    python3 -c 'import ensurepip' >/dev/null 2>&1 || want+=(python3-venv)
fi

# Node is only needed once the repository has a package.json.  Debian's
# nodejs keeps its headers in libnode-dev.
if [ -f package.json ] && ! command -v node >/dev/null; then
    want+=(nodejs npm libnode-dev)
fi

missing=()
for pkg in "${want[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    say "apt packages: all present"
else
    say "apt packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    # pgtmp runs initdb as postgres when root; the postgresql package makes
    # that user, so its absence means a broken install worth saying so.
    say "warning: no 'postgres' user; scripts/pgtmp needs it when run as root" >&2
fi

# --- Python ------------------------------------------------------------------
if [ -f requirements-dev.txt ]; then
    say "python: pip install -r requirements-dev.txt ($(python3 --version 2>&1))"
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
    # Debian's own python3 refuses pip installs (PEP 668); CI is a throwaway
    # root machine, so install there anyway rather than juggle a venv.
    if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
        export PIP_BREAK_SYSTEM_PACKAGES=1
    fi
    python3 -m pip install -q -r requirements-dev.txt
fi

# --- Node --------------------------------------------------------------------
if [ -f package.json ]; then
    say "node: npm install (node $(node --version), nodedir=$npm_config_nodedir)"
    # --prefer-offline: an up-to-date node_modules needs no registry at all.
    npm install --no-audit --no-fund --prefer-offline
fi

say "done"
