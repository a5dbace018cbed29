# serde-anam: build, test and interop checks.  Run `make help` for the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# MPICH's hydra launcher: fork local processes instead of needing ssh (containers, CI).
export HYDRA_LAUNCHER := fork

CARGO      ?= cargo
PYTHON3    ?= python3
VENV       := .venv
VENV_PY    := $(CURDIR)/$(VENV)/bin/python
VENV_STAMP := $(VENV)/.stamp
PY_PKGS    := "anamnesis==1.0.4" h5py "numpy<2"
FIXTURES   := tests/fixtures/anamnesis-1.0.4
SCRATCH    := target/examples-run

# The examples in the order `make demo` and `make examples` run them: the demo, then the
# serialisation tutorials of Python anamnesis, each one's writer before its readers.
# Examples not listed here run after these, in name order.
EXAMPLES_ORDER := demo \
  tutorial1_write tutorial1_read tutorial1_read_b \
  tutorial2_write tutorial2_defaultgroup tutorial2_aliases tutorial2_extradata \
  tutorial2_initfromhdf5 \
  tutorial3_write tutorial3_read \
  tutorial4_write tutorial4_read
MPI_EXAMPLES := mpi_tutorial1 mpi_tutorial2 mpi_tutorial3a mpi_tutorial3b
EXAMPLES_FOUND := $(sort $(patsubst examples/%.rs,%,$(wildcard examples/*.rs)))
EXAMPLES   := $(filter $(EXAMPLES_FOUND),$(EXAMPLES_ORDER)) \
              $(filter-out $(EXAMPLES_ORDER) mpi_%,$(EXAMPLES_FOUND))
# Where `cargo build --examples` puts the example binaries.
EXAMPLES_BIN := $(abspath $(or $(CARGO_TARGET_DIR),target))/debug/examples

# Debian/Ubuntu packages providing what the build needs.
APT_PKGS := libhdf5-dev hdf5-tools pkg-config mpich libmpich-dev libclang-dev libhdf5-mpich-dev strace

# The two builds. System (the default, and the supported one): the system's libhdf5
# (Debian's 1.10.8), in `target/` (or $CARGO_TARGET_DIR). Bundled (feature `bundled`):
# HDF5 2.2 built from source by hdf5-metno-src with CMake and linked statically, in its own
# target directory so that neither build invalidates the other. Bundled cargo commands run
# with .venv/bin first on PATH (where `make deps-bundled` puts PyPI's cmake when the
# system has no CMake >= 3.26) and without HDF5_DIR (which would make hdf5-metno-sys link
# that HDF5 instead of building its own).
BUNDLED_TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))/bundled
BUNDLED_ENV := env -u HDF5_DIR PATH="$(CURDIR)/$(VENV)/bin:$$PATH" CARGO_TARGET_DIR=$(BUNDLED_TARGET_DIR)
CMAKE_MIN  := 3.26
# The test suites (tests/NAME.rs) that `make test` and `make test-bundled` run on the
# bundled build: the format and round trips, the fixtures, Python interop, bad input, writes
# that fail, bounded reads, data outside the file, nesting limits, storage options
# (filters: gzip, shuffle, Fletcher-32, LZF, zstd), threads and processes using files
# at once (the bundled HDF5 is built without thread safety: every call must hold the
# `hdf5` crate's lock), and the corrupt-file suite once tests/corrupt_files.rs exists.
BUNDLED_TESTS := roundtrip data_model storage value fixtures interop_python bad_input \
  reliability bounded_reads outside_data depth write_options concurrency \
  $(if $(wildcard tests/corrupt_files.rs),corrupt_files)
# Tests of those suites skipped on the bundled build, each with its reason here (none now).
BUNDLED_SKIP :=

# The parallel build (feature `mpio`): the MPI-enabled HDF5 that installs beside the serial
# one (Debian's libhdf5-mpich-dev, built with the MPICH that rsmpi links), found through
# HDF5_DIR (MPIO_HDF5_DIR, or Debian's directory for it, looked up when the recipe runs:
# `make deps` may have just installed it), in its own target directory.
MPIO_TARGET_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))/mpio
MPIO_HDF5_DIR ?=
MPIO_ENV = env HDF5_DIR="$(or $(MPIO_HDF5_DIR),$$(dirname "$$(ls -d /usr/lib/*/hdf5/mpich/libhdf5.so | head -n1)"))" \
  CARGO_TARGET_DIR=$(MPIO_TARGET_DIR)

.PHONY: help deps deps-bundled venv test test-bundled test-mpio hdf5-version examples demo mpi-demo \
  test-large clean distclean

help: ## Show this help
	@echo "Targets:"
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

# ---------------------------------------------------------------------------------
# deps: check for the system tools/libraries; install them with apt-get if missing.
define DEPS_SCRIPT
set -euo pipefail
missing=()
need() { missing+=("$$1"); echo "deps: missing $$2" >&2; }
have_libclang() {
  local d
  local dirs=("$${LIBCLANG_PATH:-}" /usr/lib/llvm-*/lib /usr/lib/*-linux-gnu /usr/lib64 /usr/lib /usr/local/lib)
  if command -v llvm-config >/dev/null 2>&1; then dirs+=("$$(llvm-config --libdir)"); fi
  for d in "$${dirs[@]}"; do
    [ -n "$$d" ] && [ -d "$$d" ] || continue
    compgen -G "$$d/libclang.so" >/dev/null && return 0
    compgen -G "$$d/libclang-*.so" >/dev/null && return 0
  done
  return 1
}
have_hdf5_mpich() {
  [ -f /usr/include/hdf5/mpich/hdf5.h ] && compgen -G "/usr/lib/*/hdf5/mpich/libhdf5.so" >/dev/null
}
have_hdf5() {
  { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists hdf5; } && return 0
  [ -f /usr/include/hdf5/serial/hdf5.h ] && compgen -G "/usr/lib/*/hdf5/serial/libhdf5.so" >/dev/null
}
check() {
  missing=()
  command -v h5dump >/dev/null 2>&1        || need hdf5-tools "h5dump"
  command -v pkg-config >/dev/null 2>&1    || need pkg-config "pkg-config"
  have_hdf5                                || need libhdf5-dev "HDF5 headers/library (pkg-config hdf5)"
  command -v mpiexec >/dev/null 2>&1       || need mpich "mpiexec"
  command -v mpicc >/dev/null 2>&1         || need libmpich-dev "mpicc (MPI headers)"
  [ -n "$(MPIO_HDF5_DIR)" ] || have_hdf5_mpich || need libhdf5-mpich-dev "parallel HDF5 (MPICH), for the mpio feature"
  have_libclang                            || need libclang-dev "libclang (bindgen, for the mpi crate)"
  if ! command -v $(PYTHON3) >/dev/null 2>&1; then
    need python3 "python3"; missing+=(python3-venv)
  elif ! $(PYTHON3) -m venv --help >/dev/null 2>&1; then
    need python3-venv "the python3 venv module"
  fi
}
check
if [ $${#missing[@]} -gt 0 ]; then
  pkgs=($(APT_PKGS))
  for p in python3 python3-venv; do
    [[ " $${missing[*]} " == *" $$p "* ]] && pkgs+=("$$p")
  done
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: apt-get is not available; please install the equivalent of these" >&2
    echo "deps: Debian packages and re-run: $${pkgs[*]}" >&2
    exit 1
  fi
  sudo=()
  if [ "$$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "deps: not root and no sudo; as root, run:" >&2
      echo "deps:   apt-get update && apt-get install -y --no-install-recommends $${pkgs[*]}" >&2
      exit 1
    fi
  fi
  echo "deps: installing $${pkgs[*]}"
  "$${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "$${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$${pkgs[@]}"
  check
  if [ $${#missing[@]} -gt 0 ]; then
    echo "deps: still missing after apt-get install: $${missing[*]}" >&2
    exit 1
  fi
fi
if ! command -v $(CARGO) >/dev/null 2>&1; then
  echo "deps: cargo not found; install Rust (>= 1.85) with rustup: https://rustup.rs" >&2
  exit 1
fi
if ! $(CARGO) fmt --version >/dev/null 2>&1 || ! $(CARGO) clippy --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt clippy
  else
    echo "deps: cargo fmt / cargo clippy missing (rustup component add rustfmt clippy)" >&2
    exit 1
  fi
fi
endef
export DEPS_SCRIPT

deps: ## Check (and apt-get install if missing) HDF5, MPICH, libclang, python3-venv
	@bash -c "$$DEPS_SCRIPT"

# deps-bundled: what the bundled build needs beyond `deps`: a C compiler (apt-get install
# gcc libc6-dev if missing) and CMake >= 3.26 (Debian 12 has 3.25: PyPI's cmake into .venv).
define DEPS_BUNDLED_SCRIPT
set -euo pipefail
export PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
cmake_version() {  # the version of the cmake on PATH; nothing (and status 0) without one
  command -v cmake >/dev/null 2>&1 || return 0
  { cmake --version 2>/dev/null || true; } | sed -n '1s/^cmake version \([0-9][0-9.]*\).*/\1/p'
}
cmake_ok() {
  local v; v=$$(cmake_version)
  [ -n "$$v" ] && [ "$$(printf '%s\n' "$(CMAKE_MIN)" "$$v" | sort -V | sed -n 1p)" = "$(CMAKE_MIN)" ]
}
if ! command -v cc >/dev/null 2>&1; then
  pkgs=(gcc libc6-dev)
  echo "deps-bundled: missing a C compiler (cc), which CMake builds HDF5 with" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps-bundled: apt-get is not available; please install a C compiler" >&2; exit 1
  fi
  sudo=()
  if [ "$$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
      echo "deps-bundled: not root and no sudo; as root, run:" >&2
      echo "deps-bundled:   apt-get update && apt-get install -y --no-install-recommends $${pkgs[*]}" >&2
      exit 1
    fi
  fi
  "$${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "$${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$${pkgs[@]}"
fi
if ! cmake_ok; then
  found=$$(cmake_version); found=$${found:+CMake $$found}
  echo "deps-bundled: $${found:-no CMake}, HDF5 2.2 needs >= $(CMAKE_MIN): pip install cmake into $(VENV)"
  $(VENV_PY) -m pip install --disable-pip-version-check -q "cmake>=$(CMAKE_MIN),<5"
  cmake_ok || { echo "deps-bundled: still no CMake >= $(CMAKE_MIN) on PATH" >&2; exit 1; }
fi
echo "deps-bundled: cmake $$(cmake_version) ($$(command -v cmake)), $$(cc --version 2>/dev/null | sed -n 1p)"
endef
export DEPS_BUNDLED_SCRIPT

deps-bundled: venv ## For the bundled build: a C compiler, and CMake >= 3.26 (pip-installed into .venv if the system's is older)
	@bash -c "$$DEPS_BUNDLED_SCRIPT"

# hdf5-version: what `hdf5::library_version()` returns in each build, from a three-line
# program that rustc compiles against that build's own `anam` library (the rlib cargo
# reports, its dependencies and link paths): the library actually linked, not the headers.
# Each build is built as `make test` builds it (the same cargo units, so nothing is built
# twice): the system one as its `cargo build --features mpi --examples`, the bundled one
# with the BUNDLED_TESTS suites.
define HDF5_VERSION_PY
import json, os, sys
rlib, deps, native = None, None, []
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "anam" \
            and "lib" in msg["target"]["kind"]:
        for f in msg["filenames"]:
            if f.endswith(".rlib"):
                rlib = f
            elif f.endswith(".rmeta"):
                deps = os.path.dirname(f)
    elif msg.get("reason") == "build-script-executed":
        native += [p for p in msg["linked_paths"] if p not in native]
if rlib is None or deps is None:
    sys.exit("hdf5-version: cargo did not report the anam library")
print("--extern\nanam=%s\n-L\ndependency=%s" % (rlib, deps))
for p in native:
    print("-L\n%s" % p)
endef
export HDF5_VERSION_PY

define HDF5_VERSION_SCRIPT
set -euo pipefail
probe() {  # probe LABEL TARGET_DIR [ENV...] -- CARGO_BUILD_ARGS...
  local label=$$1 dir=$$2; shift 2
  local envs=()
  while [ "$$1" != -- ]; do envs+=("$$1"); shift; done; shift
  local features=$$2  # the value of the --features that follows
  local src=$$dir/hdf5-version/main.rs exe=$$dir/hdf5-version/hdf5-version
  mkdir -p "$$dir/hdf5-version"
  printf '%s\n' 'fn main() {' '    let (major, minor, release) = anam::hdf5::library_version();' \
    '    println!("{major}.{minor}.{release}");' '}' > "$$src"
  local args
  mapfile -t args < <(env "$${envs[@]}" CARGO_TARGET_DIR="$$dir" $(CARGO) build --quiet "$$@" \
    --message-format=json-render-diagnostics | $(PYTHON3) -c "$$HDF5_VERSION_PY")
  wait $$! && [ $${#args[@]} -gt 0 ] || { echo "hdf5-version: the $$label build failed" >&2; exit 1; }
  $${RUSTC:-rustc} --edition 2021 -o "$$exe" "$$src" "$${args[@]}"
  local shown=$$dir
  case $$dir in "$(CURDIR)"/*) shown=$${dir#"$(CURDIR)"/} ;; esac
  printf '%-8s HDF5 %-7s (cargo build --features %s, in %s)\n' "$$label" "$$("$$exe")" "$$features" "$$shown"
}
probe system "$(abspath $(or $(CARGO_TARGET_DIR),target))" -- --features mpi --examples
probe bundled "$(BUNDLED_TARGET_DIR)" -u HDF5_DIR PATH="$(CURDIR)/$(VENV)/bin:$$PATH" -- \
  --features bundled $(addprefix --test ,$(BUNDLED_TESTS))
endef
export HDF5_VERSION_SCRIPT

hdf5-version: deps deps-bundled ## Print hdf5::library_version() of the system and the bundled build (builds both as make test does)
	@bash -c "$$HDF5_VERSION_SCRIPT"

# ---------------------------------------------------------------------------------
venv: $(VENV_STAMP) ## Create .venv with Python anamnesis 1.0.4, h5py, numpy<2 (once)

$(VENV_STAMP): | deps
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q $(PY_PKGS)
	touch $@

# ---------------------------------------------------------------------------------
test: deps venv deps-bundled ## fmt, clippy, fixture self-check, every cargo test (MPI ones via mpiexec), doc tests, examples; then test-bundled
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --workspace --all-targets --features mpi -- -D warnings
	$(VENV)/bin/python tests/python/check_manifest.py $(FIXTURES) --require-all
	# tests/mpi.rs runs the MPI tutorial binaries under mpiexec: build them first.
	$(CARGO) build --features mpi --examples
	ANAM_PYTHON=$(VENV_PY) ANAM_REQUIRE_INTEROP=1 HYDRA_LAUNCHER=fork \
	  $(CARGO) test --workspace --all-targets --features mpi
	$(CARGO) test --test mpi_local
	$(CARGO) test --workspace --doc --features mpi
	ANAM_REQUIRE_INTEROP=1 $(MAKE) examples
	$(MAKE) test-mpio
	$(MAKE) test-bundled

test-mpio: deps venv ## Parallel HDF5 (feature mpio, against libhdf5-mpich-dev): clippy, tests/mpio.rs under mpiexec -n 1, 2, 3
	$(MPIO_ENV) $(CARGO) clippy --all-targets --features mpio -- -D warnings
	ANAM_PYTHON=$(VENV_PY) ANAM_REQUIRE_INTEROP=1 HYDRA_LAUNCHER=fork $(MPIO_ENV) \
	  $(CARGO) test --features mpio --test mpio

test-bundled: deps-bundled ## The BUNDLED_TESTS suites (format, fixtures, Python interop, bad input) on the bundled HDF5 2.2 build
	@echo "test-bundled: suites: $(strip $(BUNDLED_TESTS)); skipped tests (see BUNDLED_SKIP in the Makefile): $(or $(BUNDLED_SKIP),none)"
	ANAM_PYTHON=$(VENV_PY) ANAM_REQUIRE_INTEROP=1 $(BUNDLED_ENV) \
	  $(CARGO) test --no-fail-fast --features bundled $(addprefix --test ,$(BUNDLED_TESTS)) \
	  $(if $(strip $(BUNDLED_SKIP)),-- $(addprefix --skip ,$(BUNDLED_SKIP)))

mpi-demo: deps ## Run the MPI tutorial examples with mpiexec -n 3
	$(CARGO) build --features mpi --examples
	@for ex in $(MPI_EXAMPLES); do \
	  echo "== mpiexec -n 3 $$ex"; \
	  timeout 120 mpiexec -n 3 $(EXAMPLES_BIN)/$$ex || exit 1; \
	done

test-large: deps ## The >2 GiB MPI broadcast test (release build, needs ~8 GiB of memory)
	HYDRA_LAUNCHER=fork $(CARGO) test --release --features mpi --test mpi -- --ignored large --nocapture

examples: deps ## Run every example in order in a fresh target/examples-run; check outputs and Python interop
ifeq ($(strip $(EXAMPLES)),)
	@echo "examples: no examples/*.rs yet, nothing to run"
else
	$(CARGO) build --examples
	rm -rf $(SCRATCH) && mkdir -p $(SCRATCH)
	tests/tutorials/run.sh $(SCRATCH) $(EXAMPLES_BIN) $(EXAMPLES)
	tests/tutorials/check.sh $(SCRATCH) $(EXAMPLES_BIN) $(VENV_PY)
endif

demo: deps ## Run the demo and the tutorial examples in target/examples-run, then h5dump demo.hdf5 and `anam tree` it
	@[ -f examples/demo.rs ] || { echo "demo: examples/demo.rs does not exist yet" >&2; exit 1; }
	$(CARGO) build --examples
	mkdir -p $(SCRATCH) && rm -f $(SCRATCH)/demo.hdf5
	tests/tutorials/run.sh $(SCRATCH) $(EXAMPLES_BIN) $(EXAMPLES)
	h5dump $(SCRATCH)/demo.hdf5
	$(CARGO) run -q -p anam-cli -- tree $(SCRATCH)/demo.hdf5

clean: ## cargo clean (removes target/, including the examples scratch dir)
	-$(CARGO) clean
	rm -rf $(SCRATCH)

distclean: clean ## clean, and also remove the .venv
	rm -rf $(VENV)

# ---------------------------------------------------------------------------------
# fuzz: the wire decoder on untrusted bytes. With a nightly toolchain, cargo-fuzz
# (libFuzzer) runs fuzz/fuzz_targets/from_bytes.rs, its corpus seeded with valid messages;
# without one, the `fuzz_smoke` test of tests/wire.rs feeds the same decoders pseudo-random
# and mutated messages (release build with debug assertions and overflow checks, in its own
# target directory so that the usual builds are not invalidated).
FUZZ_SECONDS ?= 60

define FUZZ_SCRIPT
set -euo pipefail
smoke() {
  echo "fuzz: $$1: running the stable smoke test (tests/wire.rs fuzz_smoke) for $(FUZZ_SECONDS) s"
  CARGO_TARGET_DIR=$(CURDIR)/target/fuzz-smoke \
  CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
  ANAM_FUZZ_SECONDS=$(FUZZ_SECONDS) \
    $(CARGO) test --release --test wire -- --ignored --exact fuzz_smoke --nocapture
}
if ! $(CARGO) +nightly --version >/dev/null 2>&1; then
  smoke "no nightly toolchain (cargo fuzz needs one; rustup cannot download it here)"
  exit 0
fi
if ! $(CARGO) fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  if ! $(CARGO) install cargo-fuzz; then
    smoke "cargo-fuzz could not be installed"
    exit 0
  fi
fi
corpus=$(CURDIR)/fuzz/corpus/from_bytes
mkdir -p "$$corpus"
ANAM_FUZZ_CORPUS="$$corpus" $(CARGO) test --test wire -- --ignored --exact fuzz_write_corpus --quiet
$(CARGO) +nightly fuzz run from_bytes "$$corpus" -- \
  -max_total_time=$(FUZZ_SECONDS) -dict=$(CURDIR)/fuzz/from_bytes.dict
endef
export FUZZ_SCRIPT

.PHONY: fuzz
fuzz: deps ## Fuzz the wire decoder for FUZZ_SECONDS (60): cargo fuzz on nightly, else a stable smoke test
	@bash -c "$$FUZZ_SCRIPT"

# ---------------------------------------------------------------------------------
# fuzz-files: corrupt HDF5 files (tests/corrupt_files.rs). Seeded mutants of the Python
# fixtures and of files the crate writes, each loaded in a child process with a time and
# memory limit. `make test` runs the fixed-seed default budget; this runs for
# FUZZ_FILES_SECONDS (or FUZZ_FILES_MUTANTS mutants) with a new seed (FUZZ_FILES_SEED to
# repeat one), takes a gdb stack for every crash and hang, and keeps every mutant that
# crashed, hung, panicked or loaded a wrong value in <target>/fuzz-files/.
# FUZZ_FILES_EARLY_HANG=0 waits the full 10 s limit on every hang instead of recognising a
# known one after 0.5 s.
FUZZ_FILES_SECONDS    ?= 600
FUZZ_FILES_MUTANTS    ?=
FUZZ_FILES_SEED       ?= random
FUZZ_FILES_EARLY_HANG ?= 0.5

.PHONY: fuzz-files
fuzz-files: deps ## Load seeded corrupt HDF5 files in child processes for FUZZ_FILES_SECONDS (600)
	ANAM_CORRUPT_SECONDS=$(if $(FUZZ_FILES_MUTANTS),,$(FUZZ_FILES_SECONDS)) \
	ANAM_CORRUPT_MUTANTS=$(FUZZ_FILES_MUTANTS) ANAM_CORRUPT_SEED=$(FUZZ_FILES_SEED) \
	ANAM_CORRUPT_STACKS=all ANAM_CORRUPT_EARLY_HANG=$(FUZZ_FILES_EARLY_HANG) \
	ANAM_CORRUPT_KEEP=$(abspath $(or $(CARGO_TARGET_DIR),target))/fuzz-files \
	  $(CARGO) test --test corrupt_files -- --exact corrupt_files_load_without_crashing --nocapture

# ---------------------------------------------------------------------------------
# Benchmarks. `bench`: the Criterion benches of the HDF5 workloads (W1-W3), anam beside
# its floor (benches/hdf5/). `bench-compare`: the HDF5 and MPI workloads with this crate,
# the floors and Python anamnesis 1.0.4 in one run (tools/bench_compare.py); writes
# BENCHMARKS.md (raw results in target/bench-compare/), with W1 and W2 also on the
# bundled build (the HDF5 bench built again with `--features bundled`, in
# target/bundled). `make bench-compare ANAM_BENCH_QUICK=1` is a smoke run with
# reduced sizes. mpi4py is built from source against the system MPI (mpicc) into the venv
# when missing.
.PHONY: bench bench-compare

bench: deps ## Criterion benches of the HDF5 workloads W1-W3, anam beside direct hdf5 calls
	$(CARGO) bench --bench hdf5

bench-compare: deps venv deps-bundled ## anam vs floors vs Python anamnesis (HDF5 W1-W3, MPI; W1-W2 also bundled; `anam tree` of 100,000 members), writes BENCHMARKS.md
	@$(VENV_PY) -c 'import mpi4py' 2>/dev/null || { \
	  echo "bench-compare: installing mpi4py into $(VENV), built with mpicc"; \
	  $(VENV)/bin/python -m pip install --disable-pip-version-check -q --no-binary mpi4py mpi4py; }
	timeout 120 mpiexec -n 2 $(VENV_PY) -c 'from mpi4py import MPI; MPI.COMM_WORLD.Barrier()'
	ANAM_BENCH_QUICK="$(ANAM_BENCH_QUICK)" $(PYTHON3) tools/bench_compare.py --python $(VENV_PY)
