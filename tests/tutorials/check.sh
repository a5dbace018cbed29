#!/usr/bin/env bash
# Checks the examples after run.sh has run them in DIR (as `make examples` does):
#
#   a. every example's stdout (DIR/stdout/EXAMPLE.txt) equals
#      tests/tutorials/expected/EXAMPLE.txt, and every expected file has an example;
#   b. Python anamnesis 1.0.4 loads every HDF5 file the Rust tutorial examples wrote in DIR,
#      with the values they wrote (tests/python/check_tutorials.py);
#   c. the Python write scripts of the tutorials (tests/python/tutorial_scripts) run in the
#      fresh directory DIR/python-written, print what the Rust write examples print, and
#      write files that pass check_tutorials.py; then the Rust read examples run there and
#      their stdout again equals the expected files.
#
# Usage: check.sh DIR BINDIR [PYTHON]
#
#   DIR     where run.sh ran the examples
#   BINDIR  directory of the example binaries (target/debug/examples)
#   PYTHON  a Python with anamnesis 1.0.4, h5py and numpy (the .venv of `make venv`)
#
# Without a usable PYTHON, b and c are skipped with a message, or fail when
# ANAM_REQUIRE_INTEROP=1. Exit status 1 if any check failed, 2 on a usage error.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 DIR BINDIR [PYTHON]" >&2
  exit 2
fi
DIR=$(cd "$1" && pwd)
BINDIR=$(cd "$2" && pwd)
PY=${3:-}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EXPECTED=$ROOT/tests/tutorials/expected
SCRIPTS=$ROOT/tests/python/tutorial_scripts
CLASSES=$ROOT/tests/fixtures/generator/classes
CHECKER=$ROOT/tests/python/check_tutorials.py

# The Rust examples that only read: they run again on the Python-written files (c).
READ_EXAMPLES=(tutorial1_read tutorial1_read_b tutorial2_defaultgroup tutorial2_aliases
               tutorial2_initfromhdf5 tutorial3_read tutorial4_read)
# The Python write scripts, in order, each with the Rust example that prints the same.
# test_script2_extradata_write.py prints an object address: compared separately.
PY_WRITES=(test_script1_write.py:tutorial1_write
           test_script2_write.py:tutorial2_write
           test_script2_extradata_write.py:
           test_script3_write.py:tutorial3_write
           test_script4_write.py:tutorial4_write)

passed=0
failures=()
pass() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*" >&2; failures+=("$*"); }

# same_output WHAT ACTUAL_FILE EXAMPLE: ACTUAL_FILE equals expected/EXAMPLE.txt.
same_output() {
  if diff -u --label "tests/tutorials/expected/$3.txt" --label "$1" \
      "$EXPECTED/$3.txt" "$2" >&2; then
    pass "$1: stdout equals expected/$3.txt"
  else
    fail "$1: stdout differs from expected/$3.txt (diff above)"
  fi
}

# --- a ---------------------------------------------------------------------------------
echo "== check a: each example's stdout (in $DIR) equals tests/tutorials/expected/<example>.txt"
shopt -s nullglob
captured=("$DIR"/stdout/*.txt)
expected=("$EXPECTED"/*.txt)
shopt -u nullglob
if [ ${#captured[@]} -eq 0 ]; then
  fail "no example output in $DIR/stdout (run.sh runs the examples and saves it)"
fi
for out in "${captured[@]}"; do
  ex=$(basename "$out" .txt)
  if [ -f "$EXPECTED/$ex.txt" ]; then
    same_output "example $ex" "$out" "$ex"
  else
    fail "example $ex: no expected output tests/tutorials/expected/$ex.txt"
  fi
done
for exp in "${expected[@]}"; do
  ex=$(basename "$exp" .txt)
  [ -f "$DIR/stdout/$ex.txt" ] || fail "example $ex did not run (expected/$ex.txt has no output to compare)"
done

# --- Python ----------------------------------------------------------------------------
py_problem=""
if [ -z "$PY" ]; then
  py_problem="no Python given"
elif [ ! -x "$PY" ]; then
  py_problem="$PY does not exist (make venv creates it)"
elif ! version=$("$PY" -c 'import importlib.metadata as m, h5py, numpy; print(m.version("anamnesis"))' 2>&1); then
  py_problem="$PY cannot import anamnesis, h5py and numpy: $version"
elif [ "$version" != "1.0.4" ]; then
  py_problem="$PY has anamnesis $version, not 1.0.4"
fi

if [ -n "$py_problem" ]; then
  if [ "${ANAM_REQUIRE_INTEROP:-0}" = 1 ]; then
    fail "checks b and c (Python interop) required by ANAM_REQUIRE_INTEROP=1, but $py_problem"
  else
    echo "== SKIP checks b and c (Python interop): $py_problem; set ANAM_REQUIRE_INTEROP=1 to make this an error"
  fi
else
  # --- b -------------------------------------------------------------------------------
  echo "== check b: Python anamnesis 1.0.4 loads the files the Rust examples wrote"
  if "$PY" "$CHECKER" "$DIR"; then
    pass "check_tutorials.py on the Rust-written files"
  else
    fail "check_tutorials.py on the Rust-written files (see above)"
  fi

  # --- c -------------------------------------------------------------------------------
  PYDIR=$DIR/python-written
  echo "== check c: the Python write scripts in $PYDIR, then the Rust read examples there"
  rm -rf "$PYDIR"
  mkdir -p "$PYDIR/stdout"
  for entry in "${PY_WRITES[@]}"; do
    script=${entry%%:*}
    ex=${entry#*:}
    out=$PYDIR/stdout/$script.txt
    echo "-- python $script"
    if ! (cd "$PYDIR" && PYTHONPATH=$CLASSES PYTHONDONTWRITEBYTECODE=1 \
          "$PY" "$SCRIPTS/$script") >"$out"; then
      cat "$out"
      fail "python $script failed"
      continue
    fi
    cat "$out"
    if [ -n "$ex" ]; then
      same_output "python $script" "$out" "$ex"
    else
      # Python prints `<test_classes2.ComplexPerson object at 0x...>`; the Rust example
      # prints it without the address, then the same dict.
      sed -E 's/ object at 0x[0-9a-fA-F]+>/ object>/' "$out" >"$out.noaddr"
      head -n 2 "$EXPECTED/tutorial2_extradata.txt" >"$PYDIR/stdout/tutorial2_extradata.head"
      if diff -u --label "expected/tutorial2_extradata.txt (first 2 lines)" \
          --label "python $script (without the address)" \
          "$PYDIR/stdout/tutorial2_extradata.head" "$out.noaddr" >&2; then
        pass "python $script: stdout equals the first 2 lines of expected/tutorial2_extradata.txt"
      else
        fail "python $script: stdout differs from expected/tutorial2_extradata.txt (diff above)"
      fi
    fi
  done
  echo "-- check_tutorials.py on the Python-written files (a self-check of the checker)"
  if "$PY" "$CHECKER" "$PYDIR"; then
    pass "check_tutorials.py on the Python-written files"
  else
    fail "check_tutorials.py on the Python-written files (see above)"
  fi
  for ex in "${READ_EXAMPLES[@]}"; do
    out=$PYDIR/stdout/$ex.txt
    echo "-- example $ex (Python-written files)"
    if [ ! -x "$BINDIR/$ex" ]; then
      fail "example $ex: no binary $BINDIR/$ex"
    elif ! (cd "$PYDIR" && "$BINDIR/$ex") >"$out"; then
      cat "$out"
      fail "example $ex failed on the Python-written files"
    else
      cat "$out"
      same_output "example $ex on the Python-written files" "$out" "$ex"
    fi
  done
fi

echo "== check.sh: ${passed} passed, ${#failures[@]} failed"
if [ ${#failures[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failures[@]}" >&2
  exit 1
fi
