"""Version 2: status intervals per finding (for trends and time to resolve) and a count of reopenings."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add findings.reopened and the intervals table, seeded with each present finding's current status."""
    op.add_column("findings", sa.Column("reopened", sa.Integer, nullable=False, server_default="0"))
    intervals = op.create_table(
        "intervals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("finding_id", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("start_scan", sa.Integer, nullable=False),
        sa.Column("start_at", sa.String(40), nullable=False),
        sa.Column("end_scan", sa.Integer, nullable=True),
        sa.Column("end_at", sa.String(40), nullable=True),
    )
    op.create_index("ix_intervals_finding", "intervals", ["scope", "finding_id"])
    # Version 1 knew only the current status and since when; that becomes each present finding's open
    # interval, so a store upgraded in place keeps ageing its findings from the day they were first seen.
    findings = sa.table(
        "findings",
        sa.column("scope", sa.String),
        sa.column("finding_id", sa.String),
        sa.column("status", sa.String),
        sa.column("severity", sa.String),
        sa.column("first_seen_scan", sa.Integer),
        sa.column("status_since_at", sa.String),
        sa.column("last_seen_scan", sa.Integer),
    )
    assert intervals is not None
    op.execute(
        intervals.insert().from_select(
            ["scope", "finding_id", "status", "severity", "start_scan", "start_at"],
            sa.select(
                findings.c.scope,
                findings.c.finding_id,
                findings.c.status,
                findings.c.severity,
                findings.c.first_seen_scan,
                findings.c.status_since_at,
            ).where(findings.c.last_seen_scan.is_(None)),
        )
    )
