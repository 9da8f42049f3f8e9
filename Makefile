# Tenantry: `make run` to try it, `make test` to prove it. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The seed's printed logins and its emails' links use it (app.mail.development_origin).
export PORT
export FLASK_APP := wsgi

.PHONY: screenshots run test lint format install install-test install-load chromium bench bench-quick \
	bench-detail bench-compare bench-mail profile load faults scale-out load-ci vendor clean help

help:
	@echo "make run    set up .venv, migrate, seed demo data, serve http://127.0.0.1:$(PORT) (debug)"
	@echo "make test   install test dependencies (and Chromium) and run the whole suite"
	@echo "make screenshots  pictures of the main pages at desktop and phone sizes into docs/screens/"
	@echo "make lint   ruff check + format check"
	@echo "make bench  seed a large tenant and time the main pages (bench/results/pages-*.md)"
	@echo "make bench-compare  the members page beside bare Flask and Flask-Admin (bench/results/)"
	@echo "make bench-mail  the mail worker's emails/s, a 1,000-address invite, seeding (bench/results/mail-*.md)"
	@echo "make profile PAGE=\"members page\"  where one page's time goes (bench/results/profile-*.txt)"
	@echo "make load   64 users for 2 minutes against gunicorn + PostgreSQL; make faults, make scale-out"

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Tenantry needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run the install whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

$(VENV)/.installed-load: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,load]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-test

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-load: $(VENV)/.installed-load

run: install
	FLASK_DEBUG=1 $(BIN)/flask db upgrade
	FLASK_DEBUG=1 $(BIN)/flask demo seed
	@echo "Tenantry is starting at http://127.0.0.1:$(PORT)/ (sign-in links above; Ctrl+C stops it)"
	$(BIN)/flask run --debug --host 127.0.0.1 --port $(PORT)

# Browser tests drive Debian's Chromium; Playwright's own download can't run everywhere.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium for the browser tests…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "NOTE: /usr/bin/chromium is missing and I can't install it (not root or no apt-get)."; \
		echo "      Run 'sudo apt-get install -y chromium'; browser tests are skipped until then."; \
	fi

test: install-test chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Pictures of the main pages at 1280x800 and 390x844 into docs/screens/ (a throwaway demo
# database and server; Debian's Chromium).
screenshots: install-test chromium
	$(BIN)/python scripts/screenshots.py

# The main pages at 10,000 orgs / 100,000 memberships: latency, SQL queries per request and
# gunicorn throughput against a bare Flask + Jinja floor, into bench/results/pages-<db>.md.
# PostgreSQL: DATABASE_URL=postgresql+psycopg://…/an_empty_db make bench
bench: install
	$(BIN)/python bench/pages.py $(BENCH_ARGS)

# A smoke run at small sizes (under a minute); prints the report, writes nothing.
bench-quick: install
	$(BIN)/python bench/pages.py --quick $(BENCH_ARGS)

# The organizations and members pages in detail (bench/results/orgs-*.md, members-*.md).
bench-detail: install
	$(BIN)/python bench/orgs.py $(ORGS_BENCH_ARGS)
	$(BIN)/python bench/members.py $(MEMBERS_BENCH_ARGS)

# The members page of 100,000 members beside a bare Flask + Jinja page and Flask-Admin's list
# view, gunicorn -w 2 each, in one run (bench/results/members-compare-<db>.md).
# PostgreSQL: make bench-compare COMPARE_ARGS="--database-url postgresql+psycopg://…/an_empty_db"
bench-compare: install-load
	$(BIN)/python bench/compare_members.py $(COMPARE_ARGS)

# The mail worker's emails/s to a local SMTP sink (against one connection per email), a
# 1,000-address bulk invite and demo seed at 10,000 orgs, into bench/results/mail-<db>.md.
# PostgreSQL: make bench-mail MAIL_BENCH_ARGS="--database-url postgresql+psycopg://…/an_empty_db"
bench-mail: install-load
	$(BIN)/python bench/mail.py $(MAIL_BENCH_ARGS)

# Where one page's time goes (cProfile, sorted tables) into bench/results/profile-<page>.txt:
# make profile PAGE="members page"   (a page name of bench/pages.py, or a path)
PAGE ?= members page
profile: install
	$(BIN)/python bench/page_profile.py --page "$(PAGE)" $(PROFILE_ARGS)

# Load and faults against a production-like setup (gunicorn, PostgreSQL on 127.0.0.1:5432,
# a real mail worker, an SMTP sink; Redis on 6379 for scale-out). Each ends PASS or FAIL.
load: install-load
	$(BIN)/python bench/load/load_test.py $(LOAD_ARGS)

faults: install-load
	$(BIN)/python bench/load/fault_smtp.py
	$(BIN)/python bench/load/fault_postgres.py
	$(BIN)/python bench/load/fault_worker_kill.py

scale-out: install-load
	$(BIN)/python bench/load/scale_out.py

# What CI runs: a 15 s load test and a short SMTP outage (about two minutes).
load-ci: install-load
	$(BIN)/python bench/load/ci.py

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the vendored front-end files from npm (pinned versions; commit the result).
HTMX_VERSION := 2.0.11
PICO_VERSION := 2.1.1
vendor:
	rm -rf /tmp/tenantry-vendor && mkdir -p /tmp/tenantry-vendor
	cd /tmp/tenantry-vendor && npm pack --silent htmx.org@$(HTMX_VERSION) @picocss/pico@$(PICO_VERSION) \
		&& for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done
	mkdir -p static/vendor/htmx-$(HTMX_VERSION) static/vendor/pico-$(PICO_VERSION)
	cp /tmp/tenantry-vendor/htmx.org-$(HTMX_VERSION)/package/dist/htmx.min.js \
	   /tmp/tenantry-vendor/htmx.org-$(HTMX_VERSION)/package/LICENSE static/vendor/htmx-$(HTMX_VERSION)/
	cp /tmp/tenantry-vendor/picocss-pico-$(PICO_VERSION)/package/css/pico.min.css \
	   /tmp/tenantry-vendor/picocss-pico-$(PICO_VERSION)/package/LICENSE.md static/vendor/pico-$(PICO_VERSION)/

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
