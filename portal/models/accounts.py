"""People and their powers: users, roles, sign-in tokens and sessions, and the staff side's
audit rows (who changed what, duplicates, flags, moderation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.models.core import Base, utcnow


class User(Base):
    """Someone who signed in with an emailed link: a resident, or staff when they hold roles.

    There are no passwords. Each signed-in browser holds a `UserSession`; "sign out
    everywhere" deletes them all.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(nullable=True)

    roles: Mapped[list[Role]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Role.id"
    )


class Role(Base):
    """One role in one place: `staff` of a body, or `admin`/`moderator` of a portal.

    A person can hold several. Every check goes through `portal.staff.permissions`.
    """

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("user_id", "tenant_id", "body_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    body_id: Mapped[int | None] = mapped_column(
        ForeignKey("bodies.id", ondelete="CASCADE"), nullable=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # staff (body), admin, moderator (tenant)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")


class LoginToken(Base):
    """One emailed sign-in link. The signed token carries `nonce`; using it sets `used_at`
    in a single conditional UPDATE, so a link works once even when clicked twice at once."""

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)


class UserSession(Base):
    """One signed-in browser on one portal (`portal.staff.sessions`).

    The cookie carries a random token; the row keeps only its SHA-256, so a copy of this table
    signs nobody in. Signing out deletes the row, which is what ends the session: a copied
    cookie is worth nothing afterwards. `tenant_id` is the portal it was made on, the only one
    where it counts.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class UpdateAuthor(Base):
    """Which signed-in person wrote a staff update (the public history shows the body)."""

    __tablename__ = "update_authors"

    update_id: Mapped[int] = mapped_column(
        ForeignKey("updates.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )


class IssueDuplicate(Base):
    """`issue_id` was closed as a duplicate of `original_id` (its votes moved there)."""

    __tablename__ = "issue_duplicates"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    original_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Flag(Base):
    """A public "flag as inappropriate", filed on one portal; its moderators resolve it."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("issue_id", "flagger_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))  # spam, abuse, personal, other
    text: Mapped[str] = mapped_column(Text, default="")
    flagger_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolution: Mapped[str] = mapped_column(String(16), default="")  # hidden, dismissed


class ModerationAction(Base):
    """The audit trail of moderation: who hid, showed or redacted what, when and why.

    Redactions record the field and how many passages were replaced, never the removed text.
    A hidden photo's digest is kept here so it can be shown again.
    """

    __tablename__ = "moderation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="SET NULL"), nullable=True, index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    update_id: Mapped[int | None] = mapped_column(
        ForeignKey("updates.id", ondelete="CASCADE"), nullable=True
    )
    action: Mapped[str] = mapped_column(String(16))  # hide, unhide, hide_photo, ...
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(String(200), default="")
    photo: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HiddenPhoto(Base):
    """A photo moderators took down: `/media` answers 404 for it wherever it was used."""

    __tablename__ = "hidden_photos"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PortalChange(Base):
    """The audit of a portal's settings and staff, as its admins change them (`/staff/portal`).

    `what` names the setting (`languages`, `staff`, …), `subject` which one where a setting
    has several (a person in a place, an API key), and `before`/`after` its whole state either
    side, as JSON, so that undoing applies `before` back (`portal.staff.portal_audit`). An undo
    is itself a change, naming the one it undid in `undoes_id`.
    """

    __tablename__ = "portal_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    what: Mapped[str] = mapped_column(String(32))
    subject: Mapped[dict] = mapped_column(default=dict)
    before: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | list | None] = mapped_column(JSON, nullable=True)
    undoes_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_changes.id", ondelete="SET NULL"), nullable=True
    )
