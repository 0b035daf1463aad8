"""The skeleton every service app shares: error shape, health routes, metrics, safe headers."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.errors import UnhandledErrorMiddleware, install_error_handlers
from services.common.health import health_router
from services.common.metrics import MetricsMiddleware, ServiceMetrics, metrics_endpoint

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class SecurityHeadersMiddleware:
    """Adds `X-Content-Type-Options: nosniff` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-content-type-options", b"nosniff")]
            await send(message)

        await self.app(scope, receive, _send)


class ServiceApp(FastAPI):
    """FastAPI whose whole middleware stack, Starlette's error middleware included, is wrapped:
    every answer gets the safe headers, and a bug's 500 leaves the connection usable."""

    def build_middleware_stack(self) -> ASGIApp:
        return UnhandledErrorMiddleware(SecurityHeadersMiddleware(super().build_middleware_stack()))


def create_service_app(
    *,
    service: str,
    title: str,
    version: str,
    lifespan: Lifespan,
    description: str = "",
    readiness_timeout_s: float = 2.0,
) -> FastAPI:
    """A FastAPI app with `/healthz`, `/readyz`, `/metrics` and the common error handlers.

    The lifespan opens the service's resources and appends its readiness checks to
    `app.state.readiness_checks`.
    """
    app = ServiceApp(title=title, version=version, description=description, lifespan=lifespan)
    app.state.metrics = ServiceMetrics(service)
    app.state.readiness_checks = []
    app.state.readiness_timeout_s = readiness_timeout_s
    install_error_handlers(app)
    app.include_router(health_router(service))
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
