FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY workers ./workers
RUN pip install --no-cache-dir . flower
ENV NEWSFLOW_BROKER_URL=redis://redis:6379/0
CMD ["newsflow", "worker"]
