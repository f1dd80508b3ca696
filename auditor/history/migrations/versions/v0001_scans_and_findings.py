"""Version 1: scans, and one row per finding id with its first-seen, status and resolution dates."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the scans and findings tables."""
    op.create_table(
        "scans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=False),
        sa.Column("as_of", sa.String(40), nullable=False),
        sa.Column("tool_version", sa.String(40), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("baseline_name", sa.Text, nullable=False),
        sa.Column("baseline_sha256", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index("ix_scans_scope", "scans", ["scope", "id"])
    op.create_table(
        "findings",
        sa.Column("scope", sa.String(512), primary_key=True),
        sa.Column("finding_id", sa.String(20), primary_key=True),
        sa.Column("control_id", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(128), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("area", sa.String(128), nullable=False),
        sa.Column("resource_id", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_seen_scan", sa.Integer, nullable=False),
        sa.Column("first_seen_at", sa.String(40), nullable=False),
        sa.Column("status_since_at", sa.String(40), nullable=False),
        sa.Column("open_since_at", sa.String(40), nullable=True),
        sa.Column("last_seen_scan", sa.Integer, nullable=True),
        sa.Column("resolved_at", sa.String(40), nullable=True),
    )
