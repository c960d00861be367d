# azsim.vmss: build, demo and test entry points.
#
#   make demo          run playbooks/demo.yml on the sample inventory with a fresh store under build/
#   make serve         the Azure (ARM) endpoint in the foreground; prints one JSON line (SERVE_ARGS='--port 0')
#   make test          every test, in order, stopping at the first failure (docs/testing.md):
#                      units, mypy, lint, sanity, integration, molecule, changelog (ansible-core 2.19, Python 3.11),
#                      collection, ee, then units-V, sanity-V and integration-V for V = 2.20 (Python 3.12), 2.21 (3.13)
#   make <step>        one of those steps alone (a whole leg of the matrix: make matrix-2.21)
#   make collection    build the tarball, install it into build/collection/installed, run the demo from there
#   make units-fast    the fast tier of the unit tests, for the edit-test loop: no test marked system, few
#                      hypothesis examples (`make units` is every unit test, with the thorough examples)
#   make venv          create or update the virtual environment (.venv; another with VENV=path)
#   make clean         remove build/ (the venv stays)
#
# Needs only Python 3.11+ with pip and venv; everything else comes from requirements.txt and
# tests/requirements.txt into the venv. make test also needs Python 3.12 and 3.13 (on PATH or under pyenv, or
# PYTHON312=/path/to/python3.12): each leg's venv is built once, under ~/.cache/azsim-vmss.

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
	@sed -n '2,18s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

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

# Type-checks the collection's Python, its tests and the benchmarks (.mypy.ini: --strict; ansible-core has no
# types). bench/ is scripts run from their folder (`import _common`), so it is checked as such, in a second run.
mypy: venv link
	$(IN_VENV) MYPYPATH="$(BUILD_DIR)" mypy --explicit-package-bases --namespace-packages \
	  -p ansible_collections.azsim.vmss.plugins -p ansible_collections.azsim.vmss.tests
	cd bench && $(IN_VENV) MYPYPATH="$(BUILD_DIR):$(CURDIR)/bench" mypy --config-file ../.mypy.ini \
	  --explicit-package-bases *.py callback_plugins/*.py

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

# ===================================================================================================
# ansible-core matrix, collection build and install, execution environment (docs/testing.md). One block,
# so that other changes to this Makefile stay outside it.
#
# The steps above run on the default venv: ansible-core 2.19 on Python 3.11 (requirements.txt,
# ANSIBLE_TEST_PYTHON). Each other leg ANSIBLE_CORE:PYTHON of MATRIX adds three steps, units-<ANSIBLE_CORE>,
# sanity-<ANSIBLE_CORE> and integration-<ANSIBLE_CORE>, each run in the leg's own venv. tests/utils/matrix_venv.py
# finds python<PYTHON> (on PATH, else under pyenv; PYTHON312=/path/to/python3.12 names one) and builds the venv
# once, outside the clone, from requirements.txt with tests/matrix/ansible-core-<ANSIBLE_CORE>.txt's ansible-core
# and tests/requirements.txt; a missing interpreter fails the step, naming it and how to get it.

MATRIX := 2.20:3.12 2.21:3.13
# The hypothesis profile of the other legs' unit tests (tests/unit/conftest.py): ci, as `make units`.
MATRIX_HYPOTHESIS_PROFILE ?= ci

MATRIX_VERSIONS := $(foreach leg,$(MATRIX),$(firstword $(subst :, ,$(leg))))
matrix_python = $(lastword $(subst :, ,$(filter $(1):%,$(MATRIX))))
# The leg's venv, built first when missing (its path is the one line on stdout).
matrix_venv = "$(BIN)/python" tests/utils/matrix_venv.py $(1) $(call matrix_python,$(1)) "$(PYTHON$(subst .,,$(call matrix_python,$(1))))"
# ansible-test resolves symlinks (see STAGE): each leg stages its own copy, so legs never share tests/output.
matrix_stage = $(BUILD_DIR)/ansible-test-$(1)/ansible_collections/azsim/vmss
IN_LEG = env PATH="$$venv/bin:$$PATH" VIRTUAL_ENV="$$venv" PYTHONDONTWRITEBYTECODE=1

MATRIX_STEPS := $(foreach v,$(MATRIX_VERSIONS),units-$(v) sanity-$(v) integration-$(v))
TEST_STEPS += collection ee $(MATRIX_STEPS)

.PHONY: matrix matrix-venvs collection collection-install ee \
  $(MATRIX_STEPS) $(addprefix matrix-,$(MATRIX_VERSIONS)) $(addprefix matrix-venv-,$(MATRIX_VERSIONS))

# Every leg's steps; one leg's: `make matrix-2.21`.
matrix: $(addprefix matrix-,$(MATRIX_VERSIONS))
$(addprefix matrix-,$(MATRIX_VERSIONS)): matrix-%: units-% sanity-% integration-%

# Every leg's venv (or one's: `make matrix-venv-2.20`), printing where it is.
matrix-venvs: $(addprefix matrix-venv-,$(MATRIX_VERSIONS))
$(addprefix matrix-venv-,$(MATRIX_VERSIONS)): matrix-venv-%: venv
	@$(call matrix_venv,$*)

# The unit suite on the leg's ansible-core and Python, but the tests marked clients (real Azure clients and Chromium
# exercise the endpoint and the report, whatever ansible-core runs them: `make units` runs them once). No pytest cache: the legs
# share the checkout.
$(addprefix units-,$(MATRIX_VERSIONS)): units-%: venv link
	@venv=$$($(call matrix_venv,$*)); \
	echo "units-$*: $$("$$venv/bin/python" -c 'import ansible.release, platform; print("ansible-core", ansible.release.__version__, "on Python", platform.python_version())')"; \
	rc=0; $(IN_LEG) HYPOTHESIS_PROFILE=$(MATRIX_HYPOTHESIS_PROFILE) python -m pytest -p no:cacheprovider -n auto -m "not clients" tests/unit $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "units-$*: pytest collected no test under tests/unit: failing"; fi; \
	exit $$rc

# The get-pip stand-in goes into ansible-test's cache under the pip version each ansible-test asks for.
$(addprefix sanity-,$(MATRIX_VERSIONS)): sanity-%: venv
	@if compgen -G 'tests/sanity/ignore-*.txt' >/dev/null; then \
	  echo "sanity-$*: tests/sanity/ignore-*.txt found; this collection fixes findings instead of ignoring them"; exit 1; fi
	@venv=$$($(call matrix_venv,$*)); \
	"$(BIN)/python" tests/utils/stage_collection.py "$(call matrix_stage,$*)"; \
	"$$venv/bin/python" tests/utils/install_get_pip.py; \
	cd "$(call matrix_stage,$*)" && $(IN_LEG) ansible-test sanity --python $(call matrix_python,$*) --color no $(ANSIBLE_TEST_ARGS)

$(addprefix integration-,$(MATRIX_VERSIONS)): integration-%: venv
	@venv=$$($(call matrix_venv,$*)); \
	"$(BIN)/python" tests/utils/stage_collection.py "$(call matrix_stage,$*)"; \
	cd "$(call matrix_stage,$*)" && $(IN_LEG) ansible-test integration --local --python $(call matrix_python,$*) --color no $(ANSIBLE_TEST_ARGS)

# The collection as users get it: `ansible-galaxy collection build` of the checkout, the tarball checked
# (tests/utils/collection_check.py: only the checkout's files, nothing local, what the installed copy needs),
# then `ansible-galaxy collection install` of it into an empty path. `make collection` then runs the demo
# playbook from the installed copy (by its name, azsim.vmss.demo; ANSIBLE_COLLECTIONS_PATH is that path
# alone) and from the checkout as `make demo` does, each with a new store, and the two must print the same.
COLLECTION_DIR := $(BUILD_DIR)/collection
COLLECTION_PATH := $(COLLECTION_DIR)/installed
INSTALLED := $(COLLECTION_PATH)/ansible_collections/azsim/vmss

collection-install: venv
	@rm -rf "$(COLLECTION_DIR)"; mkdir -p "$(COLLECTION_DIR)/dist"
	$(IN_VENV) ansible-galaxy collection build --output-path "$(COLLECTION_DIR)/dist" .
	$(IN_VENV) python tests/utils/collection_check.py tarball "$(COLLECTION_DIR)"/dist/azsim-vmss-*.tar.gz
	$(IN_VENV) ANSIBLE_COLLECTIONS_PATH="$(COLLECTION_PATH)" \
	  ansible-galaxy collection install --offline --no-deps -p "$(COLLECTION_PATH)" "$(COLLECTION_DIR)"/dist/azsim-vmss-*.tar.gz

collection: collection-install link
	@mkdir -p "$(COLLECTION_DIR)/run"
	cd "$(COLLECTION_DIR)/run" && $(IN_VENV) AZSIM_VMSS_STORE="$(COLLECTION_DIR)/run/installed.sqlite" \
	  ANSIBLE_COLLECTIONS_PATH="$(COLLECTION_PATH)" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	  ansible-playbook -i "$(INSTALLED)/playbooks/inventory/demo.ini" azsim.vmss.demo > "$(COLLECTION_DIR)/demo-installed.out"
	$(IN_VENV) AZSIM_VMSS_STORE="$(COLLECTION_DIR)/run/checkout.sqlite" ANSIBLE_COLLECTIONS_PATH="$(BUILD_DIR)" \
	  ansible-playbook -i playbooks/inventory/demo.ini playbooks/demo.yml > "$(COLLECTION_DIR)/demo-checkout.out"
	$(IN_VENV) python tests/utils/collection_check.py same-output \
	  "$(COLLECTION_DIR)/demo-checkout.out" "$(COLLECTION_DIR)/demo-installed.out"

# meta/execution-environment.yml as ansible-builder reads it (tests/utils/ee_check.py): `ansible-builder
# introspect` on the installed collection, and `ansible-builder create` of an EE that installs the tarball
# (a build context in build/ee; no container is built).
ee: collection-install
	$(IN_VENV) python tests/utils/ee_check.py "$(COLLECTION_PATH)" "$$(ls "$(COLLECTION_DIR)"/dist/azsim-vmss-*.tar.gz)" "$(BUILD_DIR)/ee"
