"""The model catalog: models, versions, files.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("model_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.Integer, nullable=False),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("pairs", sa.JSON, nullable=False),
        sa.Column("dialect", sa.String(64), nullable=False),
        sa.Column("license", sa.String(128), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("engine", sa.String(64), nullable=False),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.String(128), sa.ForeignKey("models.model_id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("total_size", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("model_id", "version", name="uq_model_version"),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("version_id", "path", name="uq_version_path"),
    )


def downgrade() -> None:
    op.drop_table("files")
    op.drop_table("versions")
    op.drop_table("models")
