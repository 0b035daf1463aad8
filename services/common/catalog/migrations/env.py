"""Alembic's entry point: the catalog's models are the target, the connection comes from the caller
(`services.common.catalog.migrate`), which holds the lock that keeps concurrent start-ups apart."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from services.common.catalog.models import Base, outside_models

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run catalog migrations through services.common.catalog.migrate")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    include_name=lambda name, type_, parents: not outside_models(name),  # the keyword index's own
)
with context.begin_transaction():
    context.run_migrations()
