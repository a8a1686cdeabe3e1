# image-delivery: one command to build the stack, one to test it.
#   make up      venv + dependencies, then ansible-playbook site.yml (local target by default)
#   make test    lint + unit + integration tests
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
PLAYBOOK := $(BIN)/ansible-playbook -i $(INVENTORY) -i inventory/$(TARGET).aws_ec2.yml $(if $(STACK),-e stack_name=$(STACK))
ifneq ($(STACK),)
export IMAGE_DELIVERY_STACK := $(STACK)
endif
PYTEST_ARGS ?=
# Debian's chromium drives the browser tests (Playwright's own browser download needs the internet);
# podman, runc and debootstrap run the Molecule scenarios (base image built offline).
TEST_SYSTEM_PACKAGES ?= chromium podman runc debootstrap haproxy nginx wrk
# The local data plane: instances as podman containers (image built with debootstrap), HAProxy as
# the load balancer, NGINX as the edge.
LOCAL_SYSTEM_PACKAGES ?= podman runc debootstrap haproxy nginx

.PHONY: help install test-tools up down check test test-unit test-integration test-e2e reliability lint bench bench-edge diagram clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## Create .venv and install system and Python dependencies

$(VENV)/.installed: requirements.txt requirements-dev.txt scripts/install-system-packages.sh Makefile
	EXTRA_SYSTEM_PACKAGES="$(if $(filter local,$(TARGET)),$(LOCAL_SYSTEM_PACKAGES))" scripts/install-system-packages.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

test-tools: install $(VENV)/.test-tools ## System packages the tests need on top (a browser)

$(VENV)/.test-tools: scripts/install-system-packages.sh Makefile
	EXTRA_SYSTEM_PACKAGES="$(TEST_SYSTEM_PACKAGES)" scripts/install-system-packages.sh
	touch $@

$(INVENTORY):
	@echo "Unknown TARGET=$(TARGET): use TARGET=local (default) or TARGET=aws" >&2; exit 2

up: install $(INVENTORY) ## Build the whole stack (TARGET=local|aws, STACK=name)
	$(PLAYBOOK) site.yml

check: install $(INVENTORY) ## Dry run of site.yml (--check --diff)
	$(PLAYBOOK) site.yml --check --diff

down: install $(INVENTORY) ## Tear the stack down (and on local, stop the endpoint and drop .state)
	$(PLAYBOOK) playbooks/teardown.yml
	@if [ "$(TARGET)" = local ]; then \
	  $(PLAYBOOK) playbooks/local_data_plane.yml -e local_data_plane_state=stopped && \
	  $(PLAYBOOK) playbooks/local_endpoint.yml -e local_endpoint_state=stopped && rm -rf .state; fi

test: install test-tools lint ## Lint, then every test layer (JUnit report for scripts/reliability_report.py)
	mkdir -p .state/test-artifacts
	$(BIN)/pytest --junitxml=.state/test-artifacts/junit.xml $(PYTEST_ARGS)

test-unit: install test-tools ## Unit tests only (seconds)
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

test-integration: install test-tools ## Integration tests against the local AWS endpoint
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

test-e2e: install test-tools ## The whole stack end to end (own endpoint and ports; ~15 min)
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

RELIABILITY_TESTS := tests/unit/docs/test_no_secrets.py tests/integration/test_catalog.py \
  tests/integration/test_inputs.py tests/integration/test_role_arguments.py tests/integration/test_stack.py \
  tests/integration/test_interrupted_run.py \
  tests/integration/app/test_api.py tests/integration/app/test_api_schema.py tests/e2e
reliability: install test-tools ## Fault, bad-input and security tests, then regenerate docs/reliability.md (~45 min)
	mkdir -p .state/test-artifacts
	$(BIN)/pytest $(RELIABILITY_TESTS) --junitxml=.state/test-artifacts/reliability-junit.xml $(PYTEST_ARGS); \
	  status=$$?; $(BIN)/python scripts/reliability_report.py; exit $$status

lint: install ## ruff and ansible-lint (production profile)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint

bench: install ## Benchmarks (see bench/README.md)
	$(BIN)/python bench/infrastructure.py
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/api.py

bench-edge: install ## Edge cache hit vs raw NGINX, miss latency (needs `make up`); writes docs/benchmarks.md
	$(BIN)/python bench/edge.py $(if $(STACK),--stack $(STACK))

diagram: install ## Redraw docs/architecture.svg (AWS and local side by side) from scripts/architecture.py
	EXTRA_SYSTEM_PACKAGES=graphviz scripts/install-system-packages.sh
	$(BIN)/python scripts/architecture.py

clean: ## Remove the virtual environment and generated state (does not touch AWS)
	rm -rf $(VENV) .state .pytest_cache .ruff_cache
