"""The database schema this Jobdesk writes (jobs.db migrates older files to it). A module of its
own so that a read that needs no SQLAlchemy (jobs.list_local) can compare a file's version."""

SCHEMA_VERSION = 5
