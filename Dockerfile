# syntax=docker/dockerfile:1
# The QuickVault AI-OCR image: the API (gunicorn + uvicorn workers) by default; the same image runs
# the Celery worker and beat, the migrations and the backups with another command.
# Debian 13: its postgresql-client 17 dumps and restores PostgreSQL servers up to 17.
ARG PYTHON_IMAGE=python:3.11-slim-trixie

# Builder: the dependencies, compiled where they need to be, in a virtual environment of their own.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY quickvault quickvault
COPY ocr ocr
COPY prompts prompts
COPY analytics analytics
# The project's own package is taken out again: the runtime runs it from /app, beside the
# templates and data that settings find relative to the code.
RUN pip install --no-cache-dir . \
    && pip uninstall --yes quickvault-ai-ocr

# Runtime: the environment and the source, no compilers, as an unprivileged user.
FROM ${PYTHON_IMAGE} AS runtime
# pg_dump/pg_restore for `manage.py backup` and `restore` on PostgreSQL. Not pinned: the archive
# keeps only the current version, which gets the security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --yes --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 quickvault \
    && useradd --system --uid 10001 --gid quickvault --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin quickvault
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    STATIC_ROOT=/app/staticfiles \
    SQLITE_PATH=/app/data/db.sqlite3 \
    BACKUP_DIR=/app/backups \
    UV_TCP_SINGLE_ACCEPT=1
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY manage.py pyproject.toml ./
COPY quickvault quickvault
COPY ocr ocr
COPY prompts prompts
COPY analytics analytics
COPY templates templates
COPY datasets datasets
COPY examples examples
COPY deploy/docker/healthcheck.py /usr/local/bin/quickvault-healthcheck
# The static files are collected once, here; the key only lets settings load for the command.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/data /app/backups \
    && chown quickvault:quickvault /app/data /app/backups
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8000
VOLUME ["/app/backups"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/usr/local/bin/quickvault-healthcheck"]
# Gunicorn binds 0.0.0.0:$PORT and starts $WEB_CONCURRENCY workers (one per core); see `make serve`.
CMD ["gunicorn", "quickvault.asgi:application", "--worker-class", "uvicorn.workers.UvicornWorker", \
     "--backlog", "2048", "--keep-alive", "20", "--timeout", "120", "--graceful-timeout", "30", \
     "--access-logfile", "-", "--log-level", "warning"]
