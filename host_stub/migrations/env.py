"""Alembic environment of the host's own tables."""

from alembic import context

from host_stub.migrating import run_plugin_migrations_env
from host_stub.models import HOST_TABLES

run_plugin_migrations_env(context, lambda name: name in HOST_TABLES)
