"""What every `portal` subcommand shares: the databases a run opened, and the portal its
command line names.

`main()` closes the databases a run opened when it ends, so a caller that runs it in its own
process (a test, a script) is not left holding connections (on PostgreSQL they would keep the
database busy).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.core.errors import N_, ConfigError
from portal.core.settings import Settings
from portal.models import Tenant

_opened: list[Database] = []


def open_db(settings: Settings) -> Database:
    db = Database(settings.database_url)
    _opened.append(db)
    return db


def close_all() -> None:
    while _opened:
        _opened.pop().engine.dispose()


def portal_named(session: Session, slug: str) -> Tenant:
    """The portal `--tenant SLUG` (or a SLUG argument) names, or one clear line."""
    tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).first()
    if tenant is None:
        raise ConfigError(N_("no portal called %(slug)r"), slug=slug)
    return tenant
