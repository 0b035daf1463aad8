# syntax=docker/dockerfile:1
# Search replica: FAISS k-NN over the shards it is assigned (SEARCH_SHARDS of
# SEARCH_SHARD_COUNT). No torch: queries arrive as vectors.
#   docker build -f deploy/docker/search.Dockerfile -t timanh/search .
# FAISS on CPU: one query batch over a shard takes milliseconds, and replicas scale out
# by shards; a GPU build of FAISS would tie every replica to a GPU node for little gain.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies only (see encoder.Dockerfile for the placeholder README).
COPY pyproject.toml constraints.txt ./
RUN touch README.md \
    && pip install -c constraints.txt ".[search]" \
    && pip uninstall -y -q timanh \
    && rm -rf README.md build *.egg-info

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home timanh \
    && mkdir -p /app/data \
    && chown timanh:timanh /app/data
COPY deploy/docker/healthcheck.py /usr/local/lib/timanh-healthcheck.py
COPY deploy/docker/search-entrypoint.sh /usr/local/lib/timanh-search-entrypoint.sh
COPY services/ services/
COPY imaging/ imaging/

USER 10001:10001
# FAISS's idle OpenMP threads sleep instead of spinning on cores the other services share.
ENV SEARCH_HOST=0.0.0.0 \
    SEARCH_PORT=8103 \
    OMP_WAIT_POLICY=PASSIVE
EXPOSE 8103
# Shard loading happens in the lifespan, before the port opens: allow for big shards.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/lib/timanh-healthcheck.py", "SEARCH_PORT"]
ENTRYPOINT ["sh", "/usr/local/lib/timanh-search-entrypoint.sh"]
CMD ["python", "-m", "services.search"]
