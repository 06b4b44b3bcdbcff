# QuickVault AI-OCR. `make run` and `make test` each set everything up from a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test serve setup install migrate lint format worker beat evaluate bench clean

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
	$(VENV)/bin/uvicorn quickvault.asgi:application --host 0.0.0.0 --port $(PORT) --reload --reload-dir ocr --reload-dir prompts --reload-dir analytics --reload-dir quickvault --reload-dir templates

test: setup
	$(PY) -m pytest

serve: setup
	$(VENV)/bin/gunicorn quickvault.asgi:application -k uvicorn.workers.UvicornWorker \
		--workers $(WORKERS) --bind 0.0.0.0:$(PORT) --timeout 120 --graceful-timeout 30 \
		--access-logfile - --log-level warning

worker: install
	$(VENV)/bin/celery -A quickvault worker --loglevel INFO

beat: install
	$(VENV)/bin/celery -A quickvault beat --loglevel INFO

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

evaluate: setup
	$(PY) manage.py evaluate ../shared/datasets/dev.jsonl

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .ruff_cache
