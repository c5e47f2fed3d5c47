"""Alembic environment: uses the connection handed over by store.migrate, else the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from store.models import Base

target_metadata = Base.metadata


def _include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    # PostGIS owns these tables; never autogenerate drops for them.
    if type_ == "table" and name in {"spatial_ref_sys"}:
        return False
    return True


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, include_object=_include_object,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, include_object=_include_object,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
