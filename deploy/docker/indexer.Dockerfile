# syntax=docker/dockerfile:1
# Indexer service: ingestion jobs from the Redis queue and FAISS shard building. No torch:
# embeddings come from the encoder service. Run as many as the queue needs.
#   docker build -f deploy/docker/indexer.Dockerfile -t timanh/indexer .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Tesseract and its Vietnamese model, for the words in pictures (OCR).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie \
    && rm -rf /var/lib/apt/lists/*

# Dependencies only (see encoder.Dockerfile for the placeholder README).
COPY pyproject.toml constraints.txt ./
RUN touch README.md \
    && pip install -c constraints.txt ".[indexer]" \
    && pip uninstall -y -q timanh \
    && rm -rf README.md build *.egg-info

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home timanh \
    && mkdir -p /app/data \
    && chown timanh:timanh /app/data
COPY deploy/docker/healthcheck.py /usr/local/lib/timanh-healthcheck.py
COPY services/ services/
COPY imaging/ imaging/

USER 10001:10001
ENV INDEXER_HOST=0.0.0.0 \
    INDEXER_PORT=8102 \
    INDEXER_QUEUE_PATH=/app/data/indexer-queue.sqlite
EXPOSE 8102
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/usr/local/lib/timanh-healthcheck.py", "INDEXER_PORT"]
CMD ["python", "-m", "services.indexer"]
