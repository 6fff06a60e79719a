# The two commands of the README: `make run` starts the whole system locally, `make test` runs
# every test. Both install what they need into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Node tools for the tests only (asl-validator), pinned by package-lock.json; `make run` needs none.
NODE_STAMP := node_modules/.installed
# checkov, the IaC scanner of the tests (tests/integration/test_checkov.py), in a virtualenv of its
# own: its pinned dependencies (boto3 among them) conflict with requirements-dev.txt.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: run reset test unit e2e fuzz bench load verify-trail audit package clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

run: $(STAMP)
	$(PY) -m local.stack

# What `make run` keeps in .local/ between runs (accounts, cases, files, outbox: local/persist.py)
# is deleted, and the logs with it: the next `make run` starts clean. Refused while it runs.
reset:
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) -m local.stack --reset

# Browser tests drive Debian's Chromium; installed here where missing (as root, or with sudo).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-zenhei

# Two processes, each a whole test file at a time with its own local stacks (pytest-xdist).
test: $(STAMP) $(NODE_STAMP) $(CHECKOV_STAMP) $(CHROMIUM)
	$(PY) -m pytest -n 2 --dist loadfile

unit: $(STAMP)
	$(PY) -m pytest tests/unit

e2e: $(STAMP)
	$(PY) -m pytest tests/e2e

# The schema fuzzing of `make test` (tests/fuzz: every operation of the served OpenAPI, every role
# with its real sign-in) as a long run: FUZZ_EXAMPLES examples per operation and role, thousands
# per role; prints per role the requests, the 5xx and the distinct failures.
FUZZ_EXAMPLES ?= 300

fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz

bench: $(STAMP)
	$(PY) -m bench

# A compressed day of ten times Bozhou's traffic against the local stack, driven by Locust, as it
# is and with faults injected, every case checked after it (about ten minutes; not part of
# `make bench` or `make test`): the load section of bench/RESULTS.md and bench/results.json.
load: $(STAMP)
	$(PY) -m bench load

# make verify-trail CASE=<case id or 受理编号>   (reads .local/stack.json of the running stack)
verify-trail: $(STAMP)
	$(PY) -m local.trail $(CASE)

# make audit Q=case-actions CASE=<case id> | Q=red-cards-by-department SINCE=2026-11-01 |
#            Q=rejected-signatures | Q=evidence-views      (the running stack's .local/logs)
audit: $(STAMP)
	$(PY) -m local.audit $(Q) $(if $(CASE),--case $(CASE)) $(if $(SINCE),--since $(SINCE))

# make package [PARAMS=<file>] [PARAMS_CN=<file>]: the two templates, build/cloud (Cognito, SNS)
# and build/cloud-cn (AWS's China regions); a file of deploy parameter values (JSON) is checked
# against each parameter's pattern and written next to its template as parameters.json.
package: $(STAMP)
	$(PY) -m infra.build build/cloud $(if $(PARAMS),--parameters $(PARAMS))
	$(PY) -m infra.build build/cloud-cn --variant china $(if $(PARAMS_CN),--parameters $(PARAMS_CN))

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .local build .pytest_cache
