"""What body staff reuse when they answer residents: response templates.

A template belongs to one body (its staff write and use it), carries a title and a text per
language, and may be tied to one of the body's request types (by code, so reloading the body's
files keeps the tie) and to the status change it usually goes with.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base, utcnow


class ResponseTemplate(Base):
    __tablename__ = "response_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="CASCADE"),
                                         index=True)
    title: Mapped[dict] = mapped_column(default=dict)  # {language: title}
    text: Mapped[dict] = mapped_column(default=dict)  # {language: public reply}
    # "" for every request type of the body, else one type's code.
    request_type_code: Mapped[str] = mapped_column(String(64), default="")
    # "" to keep the status, else the status the reply goes with (acknowledged, closed…).
    status: Mapped[str] = mapped_column(String(16), default="")
    # Where it came from: "" typed by staff, "file" from body.json (the loader owns those).
    source: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
