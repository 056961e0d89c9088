"""Signed versions: each version's manifest, its Ed25519 signature and the signing key's id.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("versions", sa.Column("manifest", sa.LargeBinary, nullable=True))
    op.add_column("versions", sa.Column("manifest_signature", sa.LargeBinary, nullable=True))
    op.add_column("versions", sa.Column("signing_key_id", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("signing_key_id")
        batch.drop_column("manifest_signature")
        batch.drop_column("manifest")
