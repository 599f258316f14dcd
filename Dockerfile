FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY classifiers ./classifiers
COPY feeds.yaml ./
RUN pip install --no-cache-dir .
ENV MONITOR_HTTP_HOST=0.0.0.0 MONITOR_HTTP_PORT=8080 PROMETHEUS_DISABLE_CREATED_SERIES=True
EXPOSE 8080
CMD ["monitor", "run"]
