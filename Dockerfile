FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY quickvault quickvault
COPY ocr ocr
COPY prompts prompts
COPY analytics analytics
COPY templates templates
COPY manage.py ./
RUN pip install --no-cache-dir .
ENV PORT=8000
EXPOSE 8000
# A worker takes one new connection at a time, so a burst of clients is shared between workers.
ENV UV_TCP_SINGLE_ACCEPT=1
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py seed && gunicorn quickvault.asgi:application -k uvicorn.workers.UvicornWorker --workers ${WORKERS:-2} --bind 0.0.0.0:${PORT} --backlog 2048 --keep-alive 20 --timeout 120 --graceful-timeout 30"]
