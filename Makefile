# QuickVault AI-OCR. `make run` and `make test` each set everything up from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
HOST ?= 0.0.0.0
WORKERS ?= 2
METRICS_DIR ?= $(or $(PROMETHEUS_MULTIPROC_DIR),$(or $(TMPDIR),/tmp)/quickvault-metrics-$(PORT))

.PHONY: run test serve setup install migrate lint format worker beat evaluate bench clean browser \
	prometheus-check traffic bench-dashboard

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed

setup: migrate

run: setup
	$(PY) manage.py bootstrap_demo
	@echo "Serving on http://127.0.0.1:$(PORT)/ (admin: /admin/, docs: /docs, health: /api/v1/health)"
	$(VENV)/bin/uvicorn quickvault.asgi:application --host 0.0.0.0 --port $(PORT) --lifespan off --reload --reload-dir ocr --reload-dir prompts --reload-dir analytics --reload-dir quickvault --reload-dir templates

# The browser tests drive a real Chromium; on Debian it comes from the system's packages.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
		echo "Installing Chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: setup browser
	$(PY) -m pytest

# One event loop per worker process (uvloop, httptools); each holds any number of model calls
# in flight on its own, so WORKERS is the number of cores, not of concurrent requests.
# UV_TCP_SINGLE_ACCEPT: a worker takes one new connection at a time from the shared socket and
# lets the others take the next, so a burst of clients is shared between the workers; without it
# whichever woke first took most of the burst (83 of 100). Connections that come one by one
# still go to whichever worker is idle, which a socket per worker (--reuse-port) would not do.
# PROMETHEUS_MULTIPROC_DIR: every worker keeps its metrics in files there and a scrape of any worker
# sums them all; emptied at each start, as counters begin again with the server.
serve: setup
	mkdir -p $(METRICS_DIR) && rm -f $(METRICS_DIR)/*.db
	PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) UV_TCP_SINGLE_ACCEPT=1 $(VENV)/bin/gunicorn quickvault.asgi:application -k uvicorn.workers.UvicornWorker \
		--workers $(WORKERS) --bind $(HOST):$(PORT) --backlog 2048 --keep-alive 20 \
		--timeout 120 --graceful-timeout 30 --access-logfile - --log-level warning

worker: install
	$(VENV)/bin/celery -A quickvault worker --loglevel INFO

beat: install
	$(VENV)/bin/celery -A quickvault beat --loglevel INFO

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The shipped sample set (remade by `manage.py generate_cases`; see ocr/casegen).
evaluate: setup
	$(PY) manage.py evaluate datasets/sample.jsonl

bench: setup
	$(PY) bench/analyze_concurrency.py --concurrency 100 --latency 1 --rounds 8

# The alert rules and scrape config in deploy/prometheus; promtool comes with Debian's prometheus.
prometheus-check:
	@command -v promtool >/dev/null 2>&1 || { \
		echo "Installing promtool (Debian package prometheus)"; \
		SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }
	promtool check rules deploy/prometheus/alerts.yml
	promtool check config --syntax-only deploy/prometheus/prometheus.yml
	promtool test rules deploy/prometheus/alerts_test.yml

# Demo traffic for the dashboard: ROWS log rows over DAYS days, through the live writers.
ROWS ?= 20000
DAYS ?= 30
traffic: setup
	$(PY) manage.py generate_traffic --rows $(ROWS) --days $(DAYS)

# Times every staff page over 1,000,000 log rows; needs DATABASE_URL on PostgreSQL.
bench-dashboard: setup
	$(PY) bench/dashboard_scale.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .ruff_cache
