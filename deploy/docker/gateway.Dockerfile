# syntax=docker/dockerfile:1
# Gateway: the public REST API. Small on purpose: the `gateway` extra only, no torch, no
# faiss (the shared package never imports them). The UI has its own image
# (frontend.Dockerfile); GATEWAY_FRONTEND_DIR serves a built UI from here when mounted.
#   docker build -f deploy/docker/gateway.Dockerfile -t timanh/gateway .
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
    && pip install -c constraints.txt ".[gateway]" \
    && pip uninstall -y -q timanh \
    && rm -rf README.md build *.egg-info

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home timanh \
    && mkdir -p /app/data \
    && chown timanh:timanh /app/data
COPY deploy/docker/healthcheck.py /usr/local/lib/timanh-healthcheck.py
COPY services/ services/
COPY imaging/ imaging/
COPY gateway/ gateway/

USER 10001:10001
ENV GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=7860
EXPOSE 7860
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/usr/local/lib/timanh-healthcheck.py", "GATEWAY_PORT"]
CMD ["python", "-m", "gateway"]
