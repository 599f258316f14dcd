# The monitor service. Everything start-up reads is inside the image: the three config files
# (feeds.yaml, notify.yaml, tracking.yaml, read from the working directory /app), the
# classifier model and taxonomy, and the grouping scorer (package data, installed by pip).
# Secrets come from the environment (notify.yaml names them as ${ENV_NAME}).
FROM python:3.11.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# A Chinese font, so that the monthly report's and the wall's pictures draw their labels.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY classifiers ./classifiers
RUN pip install . && rm -rf build ./*.egg-info
COPY feeds.yaml notify.yaml tracking.yaml ./
# A user of its own: the service needs to write only its data directory (embedded Redis
# when REDIS_URL is unset, the SQLite history, the monthly exports, the officers file);
# /var/lib/monitor is where docker-compose.yml mounts the shared data volume.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin monitor \
    && mkdir -p /app/var /var/lib/monitor \
    && chown monitor:monitor /app/var /var/lib/monitor
USER monitor
ENV MONITOR_HTTP_HOST=0.0.0.0 MONITOR_HTTP_PORT=8080 MONITOR_DATA_DIR=/app/var \
    PROMETHEUS_DISABLE_CREATED_SERIES=True
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
CMD ["monitor", "run"]
