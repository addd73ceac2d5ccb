#!/usr/bin/env bash
# install-python-package.sh -- build the C core and the binding and install
# the pgatomic package into the python3 in use, without network: setuptools
# is already there, and building without isolation only needs `wheel`.
# Quiet on success; shows pip's log and exits non-zero on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
    export PIP_BREAK_SYSTEM_PACKAGES=1
fi
python3 -c 'import wheel' 2>/dev/null || python3 -m pip install -q wheel
echo "pip install --no-build-isolation . ($(python3 --version 2>&1))"
pip_log=$(mktemp)
trap 'rm -f "$pip_log"' EXIT
if ! python3 -m pip install -q --no-build-isolation . >"$pip_log" 2>&1; then
    grep -v '^WARNING: Running pip as' "$pip_log" | tail -n 60
    echo "the pgatomic package did not build or install" >&2
    exit 1
fi
