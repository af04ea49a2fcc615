# syntax=docker/dockerfile:1

# Build stage: the locked, hashed dependency tree (requirements/production.txt, written by
# `python3 tasks.py lock`), then the project itself without resolving anything again.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements/production.txt ./requirements/
RUN pip install --require-hashes -r requirements/production.txt
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-deps .

# Runtime stage: the virtualenv, the Gunicorn and Alembic configuration, a non-root user.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    PORT=10000
RUN groupadd --system app && useradd --system --gid app --no-create-home --home-dir /app app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY gunicorn.conf.py alembic.ini ./
COPY alembic ./alembic
USER app
EXPOSE 10000
# No curl in the image: Python's urllib fails (exit 1) on anything but a 2xx from /health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '10000'), timeout=4)"
CMD ["python", "-m", "app", "serve"]
