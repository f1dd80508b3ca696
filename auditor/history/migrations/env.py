"""Alembic environment of the history store: migrations run on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from auditor.history.schema import VERSION_TABLE

context.configure(connection=context.config.attributes["connection"], version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
