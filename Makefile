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
EXAMPLES   := $(sort $(patsubst examples/%.rs,%,$(wildcard examples/*.rs)))

# Debian/Ubuntu packages providing what the build needs.
APT_PKGS := libhdf5-dev hdf5-tools pkg-config mpich libmpich-dev libclang-dev

.PHONY: help deps venv test examples demo clean distclean

help: ## Show this help
	@echo "Targets:"
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

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

# ---------------------------------------------------------------------------------
venv: $(VENV_STAMP) ## Create .venv with Python anamnesis 1.0.4, h5py, numpy<2 (once)

$(VENV_STAMP): | deps
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check -q $(PY_PKGS)
	touch $@

# ---------------------------------------------------------------------------------
test: deps venv ## fmt check, clippy, fixture self-check, cargo tests (with interop), doc tests, examples
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(VENV)/bin/python tests/python/check_manifest.py $(FIXTURES) --require-all
	ANAM_PYTHON=$(VENV_PY) ANAM_REQUIRE_INTEROP=1 HYDRA_LAUNCHER=fork \
	  $(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	$(MAKE) examples

examples: deps ## Build and run every examples/*.rs, with target/examples-run as cwd
ifeq ($(strip $(EXAMPLES)),)
	@echo "examples: no examples/*.rs yet, nothing to run"
else
	$(CARGO) build --examples
	rm -rf $(SCRATCH) && mkdir -p $(SCRATCH)
	@failed=(); \
	for ex in $(EXAMPLES); do \
	  echo "== example $$ex"; \
	  if ! (cd $(SCRATCH) && $(CARGO) run -q --manifest-path $(CURDIR)/Cargo.toml --example "$$ex"); then \
	    echo "== example $$ex FAILED" >&2; failed+=("$$ex"); \
	  fi; \
	done; \
	if [ $${#failed[@]} -gt 0 ]; then echo "examples failed: $${failed[*]}" >&2; exit 1; fi; \
	echo "examples: all $(words $(EXAMPLES)) ran OK"
endif

demo: deps ## Run the demo example in target/examples-run and h5dump the demo.hdf5 it writes
	@[ -f examples/demo.rs ] || { echo "demo: examples/demo.rs does not exist yet" >&2; exit 1; }
	mkdir -p $(SCRATCH) && rm -f $(SCRATCH)/demo.hdf5
	cd $(SCRATCH) && $(CARGO) run --manifest-path $(CURDIR)/Cargo.toml --example demo
	h5dump $(SCRATCH)/demo.hdf5

clean: ## cargo clean (removes target/, including the examples scratch dir)
	-$(CARGO) clean
	rm -rf $(SCRATCH)

distclean: clean ## clean, and also remove the .venv
	rm -rf $(VENV)
