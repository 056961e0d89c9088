"""The catalog's tables (SQLAlchemy 2). Schema changes go through Alembic (hub_svc/migrations)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class ModelRow(Base):
    __tablename__ = "models"

    model_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[int] = mapped_column(Integer)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    pairs: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    dialect: Mapped[str] = mapped_column(String(64), default="")
    license: Mapped[str] = mapped_column(String(128), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    engine: Mapped[str] = mapped_column(String(64), default="")
    versions: Mapped[list[VersionRow]] = relationship(back_populates="model", order_by="VersionRow.created_ms",
                                                      cascade="all, delete-orphan")


class VersionRow(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("models.model_id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    total_size: Mapped[int] = mapped_column(BigInteger, default=0)
    # The signed manifest (lingua_common/signing.py), its Ed25519 signature and the signing key's id. NULL/empty
    # for versions published before signing existed (0002) until `lingua hub sign` signs them.
    manifest: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, default=None)
    manifest_signature: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, default=None)
    signing_key_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    model: Mapped[ModelRow] = relationship(back_populates="versions")
    files: Mapped[list[FileRow]] = relationship(back_populates="version", order_by="FileRow.path",
                                                cascade="all, delete-orphan")


class FileRow(Base):
    __tablename__ = "files"
    __table_args__ = (UniqueConstraint("version_id", "path", name="uq_version_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[VersionRow] = relationship(back_populates="files")
