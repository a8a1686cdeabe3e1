# image-delivery: one command to build the stack, one to test it.
#   make up      venv + dependencies, then ansible-playbook site.yml (local target by default)
#   make test    lint, then the unit, integration, Molecule and end-to-end layers
#   make down    tears down what make up made (stack, local endpoint, state)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
TARGET ?= local
STACK ?=
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

INVENTORY := inventory/$(TARGET).yml
# The controller's inventory, and the stack's instances through the aws_ec2 plugin (which reads
# the stack name from the environment).
# STACK and REGION reach both: the playbooks as extra vars (stack_name, aws_region) and the
# aws_ec2 inventory through the environment (IMAGE_DELIVERY_STACK, IMAGE_DELIVERY_REGION);
# playbooks/validate.yml fails when the two disagree.
REGION ?=
# ANSIBLE_ARGS: more ansible-playbook arguments, such as ANSIBLE_ARGS='-e origin_domain_name=...'.
ANSIBLE_ARGS ?=
PLAYBOOK := $(BIN)/ansible-playbook -i $(INVENTORY) -i inventory/$(TARGET).aws_ec2.yml \
  $(if $(STACK),-e stack_name=$(STACK)) $(if $(REGION),-e aws_region=$(REGION)) $(ANSIBLE_ARGS)
ifneq ($(STACK),)
export IMAGE_DELIVERY_STACK := $(STACK)
endif
ifneq ($(REGION),)
export IMAGE_DELIVERY_REGION := $(REGION)
endif
PYTEST_ARGS ?=
# System packages per target, on top of python3-venv, git, make, curl: the local data plane runs
# instances as podman containers (image built with debootstrap), HAProxy as the load balancer and
# NGINX as the edge; AWS needs nothing more from apt (its session-manager-plugin: see below).
SYSTEM_PACKAGES_local ?= podman runc debootstrap haproxy nginx libnginx-mod-http-js
SYSTEM_PACKAGES_aws ?=
# The tests add Debian's chromium for the browser tests (Playwright's own browser download needs
# the internet), wrk for the load test, gpg/gpgv for the signature checks and Node.js for the
# ThumbHash reference (tests/helpers/thumbhash_reference.py), and always run the
# local data plane.
TEST_SYSTEM_PACKAGES ?= $(SYSTEM_PACKAGES_local) chromium wrk gpg gpgv nodejs

.PHONY: help install dev-install test-tools up down smoke check test test-unit test-integration test-smoke test-e2e reliability lint sanity bench bench-edge bench-scale bench-engines diagram clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# Three stamps, so each target installs only what it runs: the controller's runtime (ansible, the
# AWS SDK, the local endpoint) for make up/down/check; the lint, test and AWX tools on top for
# make lint/test/bench; the system packages of the target.
install: $(VENV)/.runtime $(VENV)/.system-$(TARGET) ## The venv with what make up runs, and the target's system packages

dev-install: $(VENV)/.dev ## The venv's lint, test and AWX tools on top (make test, lint and bench add them)

test-tools: $(VENV)/.test-tools ## System packages the tests need (containers, a browser, wrk)

$(VENV)/bin/python:
	scripts/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt requirements-ee.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(VENV)/.system-%: scripts/install-system-packages.sh | $(VENV)/bin/python
	EXTRA_SYSTEM_PACKAGES="$(SYSTEM_PACKAGES_$*)" scripts/install-system-packages.sh
	touch $@

# AWS adds AWS's session-manager-plugin (the aws_ssm connection runs it): the pinned version,
# installed into the venv only if its SHA-256 matches (scripts/session_manager_plugin.py).
$(VENV)/.system-aws: scripts/install-system-packages.sh scripts/session_manager_plugin.py | $(VENV)/bin/python
	EXTRA_SYSTEM_PACKAGES="$(SYSTEM_PACKAGES_aws)" scripts/install-system-packages.sh
	$(BIN)/python scripts/session_manager_plugin.py install --prefix $(VENV)
	touch $@

$(VENV)/.test-tools: scripts/install-system-packages.sh | $(VENV)/bin/python
	EXTRA_SYSTEM_PACKAGES="$(TEST_SYSTEM_PACKAGES)" scripts/install-system-packages.sh
	touch $@

$(INVENTORY):
	@echo "Unknown TARGET=$(TARGET): use TARGET=local (default) or TARGET=aws" >&2; exit 2

up: install $(INVENTORY) ## Build the whole stack (TARGET=local|aws, STACK=name)
	$(PLAYBOOK) site.yml

smoke: install $(INVENTORY) ## A throwaway stack (random name) built, checked from outside, torn down; fails on anything left
	$(PLAYBOOK) playbooks/smoke.yml

check: install $(INVENTORY) ## Dry run of site.yml (--check --diff)
	$(PLAYBOOK) site.yml --check --diff

down: install $(INVENTORY) ## Tear the stack down (and on local, stop the endpoint and drop .state)
	$(PLAYBOOK) playbooks/teardown.yml
	@if [ "$(TARGET)" = local ]; then \
	  $(PLAYBOOK) playbooks/local_data_plane.yml -e local_data_plane_state=stopped && \
	  $(PLAYBOOK) playbooks/local_endpoint.yml -e local_endpoint_state=stopped && rm -rf .state; fi

# The layers share no state (own endpoint ports, stack names, addresses), so they run in two lanes
# side by side; scripts/test_layers.py prints each layer's time and merges the JUnit reports.
# The e2e load test waits until it runs alone (it must reach a CPU target), so the other lane is
# the one to keep short: integration and smoke (about 22 min) beside unit, molecule and e2e's
# tests before the load test (about 20 min). With unit in the first lane the load test waited
# 7 minutes (CI run of c5169cc: 31.7 min wall).
TEST_LANES ?= --lane integration,smoke --lane unit,molecule,e2e
test: install dev-install test-tools lint ## Lint, then every test layer in parallel lanes (JUnit report for scripts/reliability_report.py)
	$(BIN)/python scripts/test_layers.py $(TEST_LANES) -- $(PYTEST_ARGS)

test-unit: dev-install ## Unit tests only (seconds; no browser or container tools needed)
	$(BIN)/pytest -m unit -n auto $(PYTEST_ARGS)

test-integration: install dev-install test-tools ## Integration tests against the local AWS endpoint
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

test-smoke: install dev-install test-tools ## playbooks/smoke.yml on the local target (own endpoint and ports; ~6 min)
	$(BIN)/pytest -m smoke $(PYTEST_ARGS)

test-e2e: install dev-install test-tools ## The whole stack end to end (own endpoint and ports; ~15 min)
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

RELIABILITY_TESTS := tests/unit/docs/test_no_secrets.py tests/integration/test_catalog.py \
  tests/integration/test_inputs.py tests/integration/test_role_arguments.py tests/integration/test_stack.py \
  tests/integration/test_interrupted_run.py tests/smoke \
  tests/integration/app/test_api.py tests/integration/app/test_api_schema.py tests/e2e
reliability: install dev-install test-tools ## Fault, bad-input and security tests, then regenerate docs/reliability.md (~45 min)
	mkdir -p .state/test-artifacts
	$(BIN)/pytest $(RELIABILITY_TESTS) --junitxml=.state/test-artifacts/reliability-junit.xml $(PYTEST_ARGS); \
	  status=$$?; $(BIN)/python scripts/reliability_report.py; exit $$status

sanity: dev-install ## ansible-test sanity on the collection (validate-modules, ansible-doc, ...; offline; the unit layer runs it too)
	$(BIN)/python scripts/ansible_sanity.py

lint: dev-install ## ruff and ansible-lint (production profile)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint

bench: install dev-install ## Benchmarks (see docs/benchmarks.md)
	$(BIN)/python bench/infrastructure.py
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/api.py
	$(MAKE) bench-engines

bench-scale: install dev-install ## A catalog of 100,000 and 1,000,000 entries: an instance's load and search, and publishing one change (bench/scale.py, bench/publish.py)
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/publish.py --playbook

bench-engines: dev-install ## Image engines for /img renders: the API's renderer and plain libvips against naive Pillow
	$(BIN)/python bench/engines.py

bench-edge: install dev-install ## Edge cache hit vs raw NGINX, miss latency (needs `make up`); writes docs/benchmarks.md
	$(BIN)/python bench/edge.py $(if $(STACK),--stack $(STACK))

diagram: dev-install ## Redraw docs/architecture.svg (AWS and local side by side) from scripts/architecture.py
	EXTRA_SYSTEM_PACKAGES=graphviz scripts/install-system-packages.sh
	$(BIN)/python scripts/architecture.py

clean: ## Remove the virtual environment and generated state (does not touch AWS)
	rm -rf $(VENV) .state .pytest_cache .ruff_cache
