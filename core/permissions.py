"""Who may administer: checked on the account a page holds, and again in the database before a
change, because the role may have been taken away since the page resolved the account."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.auth.account import Account, Role
from core.errors import PermissionDenied
from storage.models import User

ADMINS_ONLY = "Only administrators can do this."
ADMIN_PAGE_ONLY = "This page is for administrators only."


def require_admin(actor: Account, refusal: str = ADMINS_ONLY) -> None:
    if not actor.is_admin or not actor.is_active:
        raise PermissionDenied(refusal)


def is_current_admin(db: Session, actor: Account) -> bool:
    me = db.get(User, actor.id)
    return me is not None and me.is_active and me.role == Role.ADMIN


def require_current_admin(db: Session, actor: Account) -> None:
    if not is_current_admin(db, actor):
        raise PermissionDenied(ADMINS_ONLY)
