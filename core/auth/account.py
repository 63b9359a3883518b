"""Who someone is to Atelier: the value every layer passes around once they are signed in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from storage.models import User


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True)
class Account:
    id: uuid.UUID
    email: str
    role: Role
    is_active: bool
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @classmethod
    def of(cls, user: User) -> Account:
        return cls(user.id, user.email, Role(user.role), user.is_active, user.created_at)
