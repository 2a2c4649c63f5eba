"""Alembic environment of ClientFlow's tables: only ``clientflow_*`` is seen."""

from alembic import context

from host_stub.sdk import run_plugin_migrations_env

run_plugin_migrations_env(context, lambda name: name.startswith("clientflow_"))
