# QuickVault AI-OCR. `make run` and `make test` each set everything up from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
# This machine only by default; HOST=0.0.0.0 serves the network.
HOST ?= 127.0.0.1
WORKERS ?= 2
METRICS_DIR ?= $(or $(PROMETHEUS_MULTIPROC_DIR),$(or $(TMPDIR),/tmp)/quickvault-metrics-$(PORT))

.PHONY: run test serve setup install migrate lint format worker beat evaluate bench clean browser \
	backup restore k8s-check dockerfile-lint \
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

# Development: DEBUG on (plain HTTP, the development key) unless the environment says otherwise.
run: export DEBUG ?= 1
run: setup
	$(PY) manage.py bootstrap_demo
	@echo "Serving on http://$(HOST):$(PORT)/ (admin: /admin/, docs: /docs, health: /api/v1/health)"
	$(VENV)/bin/uvicorn quickvault.asgi:application --host $(HOST) --port $(PORT) --lifespan off --reload --reload-dir ocr --reload-dir prompts --reload-dir analytics --reload-dir quickvault --reload-dir templates

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
# It refuses to start without SECRET_KEY (quickvault/gunicorn.conf.py) unless DEBUG is on.
# PROMETHEUS_MULTIPROC_DIR: every worker keeps its metrics in files there and a scrape of any worker
# sums them all; emptied at each start, as counters begin again with the server.
serve: setup
	mkdir -p $(METRICS_DIR) && rm -f $(METRICS_DIR)/*.db
	PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) UV_TCP_SINGLE_ACCEPT=1 $(VENV)/bin/gunicorn quickvault.asgi:application -k uvicorn.workers.UvicornWorker \
		--config quickvault/gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT) --backlog 2048 --keep-alive 20 \
		--timeout 120 --graceful-timeout 30 --access-logfile - --log-level warning

# Without REDIS_URL there is no broker: tasks run in-process and no worker or beat is needed.
NO_BROKER = echo "REDIS_URL is not set: tasks run in-process on the embedded default; no worker is needed." >&2; exit 1

worker: install
	@test -n "$$REDIS_URL" || { $(NO_BROKER); }
	$(VENV)/bin/celery -A quickvault worker --loglevel INFO

# Beat keeps its schedule file where CELERY_BEAT_SCHEDULE_FILENAME says (the temporary folder).
beat: install
	@test -n "$$REDIS_URL" || { $(NO_BROKER); }
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

# A backup of the database into BACKUP_DIR (default ./backups), keeping the newest BACKUP_KEEP (7):
# pg_dump in custom format where DATABASE_URL is set, SQLite's online backup otherwise. The new
# file's path is the last line printed.
backup: install
	@$(PY) manage.py backup

# Replaces the database's contents with FILE (pg_restore --clean --if-exists, or SQLite's backup).
restore: install
	@test -n "$(FILE)" || { echo "Usage: make restore FILE=backups/quickvault-<moment>.dump" >&2; exit 2; }
	@$(PY) manage.py restore --noinput "$(FILE)"

# Renders every kustomization under deploy/kubernetes (kubectl kustomize) and validates the result
# offline against the Kubernetes schemas bundled in kubernetes-validate.
k8s-check: install
	$(PY) deploy/kubernetes/check.py

dockerfile-lint: install
	$(VENV)/bin/hadolint Dockerfile

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
