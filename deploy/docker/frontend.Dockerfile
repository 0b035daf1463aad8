# syntax=docker/dockerfile:1
# The React UI: built with Vite in a Node stage, served by nginx, which proxies the API
# (/api, /docs, /openapi.json) to the gateway, so the browser sees one origin.
#   docker build -f deploy/docker/frontend.Dockerfile -t timanh/frontend .
FROM node:20-bookworm-slim AS build
WORKDIR /ui
# The lockfile first: `npm ci` reinstalls only when dependencies change.
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# nginx-unprivileged runs as uid 101 and listens on 8080: no root, no privileged port.
FROM nginxinc/nginx-unprivileged:1.27-alpine
# The official entrypoint fills ${GATEWAY_UPSTREAM} in templates at start-up.
COPY deploy/docker/nginx.conf.template /etc/nginx/templates/default.conf.template
COPY --from=build /ui/dist /usr/share/nginx/html
ENV GATEWAY_UPSTREAM=http://gateway:7860
USER 101
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["wget", "-q", "--spider", "http://127.0.0.1:8080/healthz"]
