"""One row: the number every process checks its cached portal settings against.

See `portal.tenancy.settings_stamp`, which moves it and reads it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.core import Base

ROW = 1  # the only row's id


class SettingsStamp(Base):
    __tablename__ = "settings_stamps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=1)
