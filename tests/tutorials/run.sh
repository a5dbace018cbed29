#!/usr/bin/env bash
# Runs examples in the given order, with DIR as the working directory.
#
# Usage: run.sh DIR BINDIR EXAMPLE...
#
#   DIR     working directory of the examples (created if missing; files are kept)
#   BINDIR  directory of the example binaries (`cargo build --examples` puts them in
#           target/debug/examples)
#
# Each example's stdout is shown and also saved in DIR/stdout/EXAMPLE.txt, which
# check.sh compares with tests/tutorials/expected/EXAMPLE.txt. Every example runs even
# if an earlier one failed; the exit status is 1 if any failed.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 DIR BINDIR EXAMPLE..." >&2
  exit 2
fi
mkdir -p "$1"
dir=$(cd "$1" && pwd)
bindir=$(cd "$2" && pwd)
shift 2

mkdir -p "$dir/stdout"
failed=()
for ex in "$@"; do
  echo "== example $ex"
  out="$dir/stdout/$ex.txt"
  rm -f "$out"
  if [ ! -x "$bindir/$ex" ]; then
    echo "== example $ex FAILED: no binary $bindir/$ex (run cargo build --examples)" >&2
    failed+=("$ex")
  elif ! (cd "$dir" && "$bindir/$ex") | tee "$out"; then
    echo "== example $ex FAILED" >&2
    failed+=("$ex")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "examples failed: ${failed[*]}" >&2
  exit 1
fi
echo "examples: all $# ran OK (in $dir)"
