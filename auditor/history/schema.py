"""The tables of the history store at the newest schema version, for queries (migrations create them)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

# Alembic's record of the schema revision the store is at.
VERSION_TABLE = "auditor_schema_version"

metadata = MetaData()

# One row per recorded scan; its summary (counts, scores per area, new and resolved) is JSON text.
scans = Table(
    "scans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(512), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=False),
    Column("as_of", String(40), nullable=False),
    Column("tool_version", String(40), nullable=False),
    Column("source", Text, nullable=False),
    Column("baseline_name", Text, nullable=False),
    Column("baseline_sha256", String(64), nullable=False),
    Column("summary", Text, nullable=False),
    Index("ix_scans_scope", "scope", "id"),
)

# One row per finding id and scope: its current state and the dates that age it.
findings = Table(
    "findings",
    metadata,
    Column("scope", String(512), primary_key=True),
    Column("finding_id", String(20), primary_key=True),
    Column("control_id", String(64), nullable=False),
    Column("check_id", String(128), nullable=False),
    Column("title", Text, nullable=False),
    Column("area", String(128), nullable=False),
    Column("resource_id", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("first_seen_scan", Integer, nullable=False),
    Column("first_seen_at", String(40), nullable=False),
    Column("status_since_at", String(40), nullable=False),
    # Start of the current run of fail/error; kept after resolution so time to resolve can be read.
    Column("open_since_at", String(40), nullable=True),
    # None while the finding is in the latest scan of its scope; else the last scan that had it.
    Column("last_seen_scan", Integer, nullable=True),
    Column("resolved_at", String(40), nullable=True),
    Column("reopened", Integer, nullable=False, default=0),
)

# Version 2: every span of one status (and severity) of one finding, closed when it changes or disappears.
intervals = Table(
    "intervals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("scope", String(512), nullable=False),
    Column("finding_id", String(20), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("start_scan", Integer, nullable=False),
    Column("start_at", String(40), nullable=False),
    Column("end_scan", Integer, nullable=True),
    Column("end_at", String(40), nullable=True),
    Index("ix_intervals_finding", "scope", "finding_id"),
)
