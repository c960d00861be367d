# azsim.vmss: build, demo and test entry points.
#
#   make demo          run playbooks/demo.yml on the sample inventory with a fresh store under build/
#   make serve         the Azure (ARM) endpoint in the foreground; prints one JSON line (SERVE_ARGS='--port 0')
#   make test          every test, in order, stopping at the first failure:
#                      units, mypy, lint, sanity, integration, molecule, changelog
#   make <step>        one of those steps alone
#   make units-fast    the fast tier of the unit tests, for the edit-test loop: no test marked system, few
#                      hypothesis examples (`make units` is every unit test, with the thorough examples)
#   make venv          create or update the virtual environment (.venv; another with VENV=path)
#   make clean         remove build/ (the venv stays)
#
# Needs only Python 3.11+ with pip and venv; everything else comes from requirements.txt and
# tests/requirements.txt into the venv.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV ?= .venv
BUILD ?= build
# Python version ansible-test runs sanity and integration tests with.
ANSIBLE_TEST_PYTHON ?= 3.11
# Extra arguments, e.g. `make sanity ANSIBLE_TEST_ARGS='--test pylint'` or `make units PYTEST_ARGS='-k clock -n0'`.
ANSIBLE_TEST_ARGS ?=
PYTEST_ARGS ?=

ROOT := $(abspath .)
VENV_DIR := $(abspath $(VENV))
BUILD_DIR := $(abspath $(BUILD))
BIN := $(VENV_DIR)/bin
STAMP := $(VENV_DIR)/.azsim-requirements.stamp
# Everything that runs a tool from the venv: its bin first on PATH (tools call each other by name).
IN_VENV := env PATH="$(BIN):$$PATH" VIRTUAL_ENV="$(VENV_DIR)" PYTHONDONTWRITEBYTECODE=1

# build/ansible_collections/azsim/vmss -> the checkout: ansible, ansible-playbook and pytest import the
# code being edited through it (ANSIBLE_COLLECTIONS_PATH=build).
LINK := $(BUILD_DIR)/ansible_collections/azsim/vmss
# ansible-test resolves symlinks and refuses a checkout outside an ansible_collections/NS/NAME tree,
# so sanity, integration and molecule run on a copy staged here before each run.
STAGE_ROOT := $(BUILD_DIR)/ansible-test
STAGE := $(STAGE_ROOT)/ansible_collections/azsim/vmss
DEMO_STORE := $(BUILD_DIR)/demo/vmss.sqlite

TEST_STEPS := units mypy lint sanity integration molecule changelog

.PHONY: help venv link stage get-pip demo serve test $(TEST_STEPS) units-fast mypy clean

help:
	@sed -n '2,14s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

# ---------------------------------------------------------------------------------------------------
# Virtual environment: (re)installed only when a requirements file is newer than the stamp.

venv: $(STAMP)

$(STAMP): requirements.txt tests/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "$(PYTHON) is Python %d.%d; azsim.vmss needs 3.11 or newer (make PYTHON=python3.11)" % sys.version_info[:2])'
	@if [ ! -x "$(BIN)/python" ]; then echo "creating $(VENV_DIR)"; $(PYTHON) -m venv "$(VENV_DIR)"; fi
	"$(BIN)/python" -m pip install --disable-pip-version-check -r requirements.txt -r tests/requirements.txt
	@touch "$@"

# ---------------------------------------------------------------------------------------------------
# Collection paths

link:
	@if [ -e "$(LINK)" ] && [ ! -L "$(LINK)" ]; then \
	  echo "$(LINK) is a directory, not a link to $(ROOT): remove it (make clean)"; exit 1; fi
	@mkdir -p "$(dir $(LINK))"
	@ln -sfn "$(ROOT)" "$(LINK)"

stage: venv
	@"$(BIN)/python" tests/utils/stage_collection.py "$(STAGE)"

# ansible-test bootstraps pip in each venv it makes with a get-pip.py it downloads from a host outside
# the package registries; put the offline stand-in where ansible-test looks for its cached copy.
get-pip: venv
	@version=$$("$(BIN)/python" -c 'import pathlib, re, ansible_test; \
	  src = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text(); \
	  print(re.search(r"pip=.([0-9.]+).", src).group(1))'); \
	cache="$$HOME/.ansible/test/cache"; mkdir -p "$$cache"; \
	install -m 0644 tests/utils/offline_get_pip.py "$$cache/get_pip_$${version//./_}.py"

# ---------------------------------------------------------------------------------------------------
# Demo

demo: venv link
	@mkdir -p "$(dir $(DEMO_STORE))"
	@rm -f "$(DEMO_STORE)"
	$(IN_VENV) AZSIM_VMSS_STORE="$(DEMO_STORE)" ANSIBLE_COLLECTIONS_PATH="$(BUILD_DIR)" \
	  ansible-playbook -i playbooks/inventory/demo.ini playbooks/demo.yml
	@echo "store: $(DEMO_STORE)"

# The Azure Resource Manager endpoint in the foreground (docs/azure-endpoint.md): one JSON line on stdout
# (base_url, ca_cert, client_secret, env, ...), then it serves until SIGTERM or Ctrl-C. Options of
# `azsim-arm serve` in SERVE_ARGS, e.g. `make serve SERVE_ARGS='--port 0 --clock manual --store /tmp/s.sqlite'`.
SERVE_ARGS ?=

serve: venv link
	@$(IN_VENV) PYTHONPATH="$(BUILD_DIR)" python -m ansible_collections.azsim.vmss.plugins.module_utils._front.arm.server $(SERVE_ARGS)

# ---------------------------------------------------------------------------------------------------
# Tests

# Each step runs in its own make, so `make test` stops at the first failing one; the time each took
# is printed after it.
test: venv
	@for step in $(TEST_STEPS); do \
	  echo "=== make $$step"; start=$$(date +%s); \
	  $(MAKE) --no-print-directory $$step; \
	  echo "=== make $$step: passed in $$(( $$(date +%s) - start ))s"; \
	done

# Two tiers (pytest settings and the system marker in pyproject.toml, hypothesis profiles in
# tests/unit/conftest.py). units: every unit test with the thorough ci profile; it is the step `make test`
# runs. units-fast: the tests not marked system (no ansible-playbook, no other process, no thorough
# hypothesis) with the dev profile, for the edit-test loop: under a minute on two cores.
# pytest exit code 5 (no test collected) fails either like any other non-zero code.
units: venv link browser
	@rc=0; $(IN_VENV) HYPOTHESIS_PROFILE=ci python -m pytest -n auto tests/unit $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "units: pytest collected no test under tests/unit: failing"; fi; \
	exit $$rc

units-fast: venv link
	@rc=0; $(IN_VENV) HYPOTHESIS_PROFILE=dev python -m pytest -n auto -m "not system" tests/unit $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "units-fast: pytest collected no test under tests/unit: failing"; fi; \
	exit $$rc

# The upgrade report's browser test (tests/unit/test_report_browser.py, marked system) runs Debian's Chromium
# headless. `units` installs it when it is missing and this is root; anyone else is told how.
CHROMIUM := /usr/bin/chromium

.PHONY: browser

browser:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "browser: $(CHROMIUM) is missing; the report's browser test needs it: sudo apt-get install -y chromium"; exit 1; fi; \
	echo "browser: installing Debian's chromium"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }; \
	[ -x "$(CHROMIUM)" ] || { echo "browser: apt-get installed chromium but $(CHROMIUM) is not there"; exit 1; }

sanity: venv stage get-pip
	@if compgen -G 'tests/sanity/ignore-*.txt' >/dev/null; then \
	  echo "sanity: tests/sanity/ignore-*.txt found; this collection fixes findings instead of ignoring them"; exit 1; fi
	cd "$(STAGE)" && $(IN_VENV) ansible-test sanity --python $(ANSIBLE_TEST_PYTHON) --color no $(ANSIBLE_TEST_ARGS)

# --local: run in this venv (it has jsonschema); no venv for ansible-test to bootstrap, nothing to download.
integration: venv stage
	cd "$(STAGE)" && $(IN_VENV) ansible-test integration --local --python $(ANSIBLE_TEST_PYTHON) --color no $(ANSIBLE_TEST_ARGS)

# Every directory holding molecule/<scenario>/molecule.yml (extensions/, roles/<role>/, the root)
# gets `molecule test --all`, run on the staged copy so the collection is found as azsim.vmss.
molecule: venv stage
	@cd "$(STAGE)"; \
	projects=$$(find . -path ./tests/output -prune -o -path '*/molecule/*/molecule.yml' -print \
	  | sed 's#/molecule/[^/]*/molecule.yml$$##' | sort -u); \
	if [ -z "$$projects" ]; then echo "molecule: no scenario (*/molecule/*/molecule.yml); skipped"; exit 0; fi; \
	for project in $$projects; do \
	  echo "molecule test --all in $$project"; \
	  (cd "$$project" && $(IN_VENV) ANSIBLE_COLLECTIONS_PATH="$(STAGE_ROOT)" molecule test --all); \
	done

# ruff (pyproject.toml: pycodestyle, pyflakes, isort, and C901 at most 15) and its formatter over every Python
# tree, then ansible-lint over the roles and playbooks (the Molecule and integration trees are YAML: ansible-lint's).
RUFF_PATHS := plugins tests bench extensions

lint: venv link
	$(IN_VENV) ruff check --no-cache $(RUFF_PATHS)
	$(IN_VENV) ruff format --no-cache --check $(RUFF_PATHS)
	@paths=$$(for dir in roles playbooks; do [ -d "$$dir" ] && echo "$$dir"; done); \
	if [ -z "$$paths" ]; then echo "lint: no roles/ or playbooks/; skipped"; exit 0; fi; \
	$(IN_VENV) ANSIBLE_COLLECTIONS_PATH="$(BUILD_DIR)" ansible-lint --offline --nocolor --profile production $$paths

changelog: venv
	$(IN_VENV) antsibull-changelog lint
	$(IN_VENV) antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

# Type-checks the collection's Python and its tests (.mypy.ini: --strict; ansible-core has no types).
mypy: venv link
	$(IN_VENV) MYPYPATH="$(BUILD_DIR)" mypy --explicit-package-bases --namespace-packages \
	  -p ansible_collections.azsim.vmss.plugins -p ansible_collections.azsim.vmss.tests

clean:
	rm -rf "$(BUILD_DIR)"

# ---------------------------------------------------------------------------------------------------
# Benchmarks (measurements, not tests): `make bench` runs bench/report.py, which prints the figures and
# rewrites docs/performance.md and docs/performance.png. Its tools (bench/requirements.txt) go into the
# same venv, installed only here, so `make test` never needs them. One benchmark alone, or just the page:
# `make bench BENCH_ARGS='--only engine'`, `make bench BENCH_ARGS=--page-only`.

BENCH_ARGS ?=
BENCH_STAMP := $(VENV_DIR)/.azsim-bench-requirements.stamp

.PHONY: bench

bench: venv link $(BENCH_STAMP)
	$(IN_VENV) python bench/report.py $(BENCH_ARGS)

$(BENCH_STAMP): bench/requirements.txt $(STAMP)
	"$(BIN)/python" -m pip install --disable-pip-version-check -r bench/requirements.txt
	@touch "$@"
