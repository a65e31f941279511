#!/usr/bin/env bash
# Cross-checks `credgate validate` against python-stdnum, an independent
# implementation, on >10,000 random and perturbed codes plus stdnum's 200
# published valid USCCs. Needs only PyPI (no other network).
#
#   scripts/stdnum-crosscheck.sh [path/to/credgate]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
credgate=${1:-$here/../target/release/credgate}
version=2.2
work=${STDNUM_WORK:-${TMPDIR:-/tmp}/credgate-stdnum-$version}
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install --quiet "python-stdnum==$version"
fi
# The published valid numbers live in the source distribution's tests.
if [ ! -f "$work/test_cn_uscc.doctest" ]; then
    "$work/venv/bin/pip" download --quiet --no-deps --no-binary :all: \
        -d "$work/sdist" "python-stdnum==$version"
    tar -xzf "$work/sdist/python_stdnum-$version.tar.gz" -C "$work" \
        --strip-components=2 "python_stdnum-$version/tests/test_cn_uscc.doctest"
fi
exec "$work/venv/bin/python" "$here/stdnum_crosscheck.py" \
    --credgate "$credgate" --published "$work/test_cn_uscc.doctest"
