-- SQLite twin of the PostgreSQL migration of the same name: keep both in step.
DROP TABLE sessions;
DROP TABLE lanes;
