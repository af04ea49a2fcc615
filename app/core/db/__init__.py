"""The database kit: URL (url), connections behind PgBouncer (pooler), driver errors (errors),
reads through the driver (reads), the pool (engine), the read replica (replica), the app's
Database (database) and the session dependencies (session)."""

from app.core.db.database import Database
from app.core.db.errors import DATABASE_UNAVAILABLE_ERRORS
from app.core.db.reads import Record, RowSource, session_rows
from app.core.db.session import DatabaseDep, PublicReader, PublicReaderDep, SessionDep
from app.core.db.url import DatabaseTarget, DatabaseURLError, migration_target, parse_database_url

__all__ = [
    "DATABASE_UNAVAILABLE_ERRORS",
    "Database",
    "DatabaseDep",
    "DatabaseTarget",
    "DatabaseURLError",
    "PublicReader",
    "PublicReaderDep",
    "Record",
    "RowSource",
    "SessionDep",
    "migration_target",
    "parse_database_url",
    "session_rows",
]
