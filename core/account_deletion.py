"""Deleting an account and everything in it, in an order that an interruption cannot spoil.

What goes: every generation's files (media, input.json, record.json, thumbnails, references),
the history index, conversations, jobs and their staged references, imported images and their
documents, the avatar, sessions, API keys and limits. What stays, with no user (NULL), so that
everyone's Analytics count the same before and after: the usage events; each generation's row
with its figures only (when, which modality, provider and model, how it went and why it
failed, how long, how many tokens, what it cost), its words, parameters and keys blanked; and
each import job's counts, its request emptied. An imported image's row goes (imports are
counted from their jobs).

The order:

1. Mark, in one transaction: `deleting_since` is set, the account disabled, its sessions and
   API keys revoked, its pending jobs cancelled and its running ones asked to stop. From then
   on nobody can sign in to it or act for it, and the mark tells any later attempt (the
   owner's again, an administrator's, the sweep at start) that there is work left.
2. Objects, each found through what points at it, and deleted before that pointer:
   a. history lines without a row (a generation that stopped between its line and its row):
      their request folders;
   b. generations, a batch at a time: their files, then their rows are let go of (blanked
      and without a user; imported images' deleted);
   c. jobs' staged reference images;
   d. everything under the account's own prefixes: the history index and the avatar in each
      modality bucket, imports in the imports bucket.
3. In one transaction: the import jobs' counts are let go of, then the user row is deleted;
   the other rows go with it (ON DELETE CASCADE) and the usage events lose their user (ON
   DELETE SET NULL). A generation still owned then (a job that was still finishing wrote it
   after step 2b) stops this step: the next attempt lets go of it first.

Deleting a missing object or row is no error, and no pointer goes before what it points at, so
an attempt that stops anywhere leaves a state the next one finishes. A row only ever loses its
user in the statement that blanks it: the foreign keys of generations and jobs still CASCADE,
so a user row deleted any other way takes its words with it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.admin.users import NO_SUCH_USER, active_admins, admin_deletion_refusal, deletion_refusal
from core.anonymous import ANONYMOUS_USER_ID
from core.auth.account import Account
from core.auth.passwords import PasswordHasher
from core.auth.rate_limit import RateLimiter, enforce
from core.auth.sessions import RefreshSessions
from core.errors import AtelierError, AuthenticationFailed, NotFound, PermissionDenied
from core.gallery import generation_files
from core.generation.status import Status
from core.history import HistoryIndex, request_prefix
from core.imports.library import IMPORT_PROVIDER
from core.imports.usage import counted
from core.jobs.model import JobKind
from core.modality import Modality
from core.permissions import require_admin, require_current_admin
from storage.db import lock_for_transaction, transaction
from storage.models import ApiKey, Generation, Job, User
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

NOT_CONFIRMED = "That password is not right."
_OWN_UNFINISHED = (
    "Your account is closed, but some of its files could not be deleted just now ({reason}). "
    "The deletion finishes by itself when Atelier next starts, or when an administrator "
    "deletes the account."
)
_ADMIN_UNFINISHED = (
    "The account is closed, but some of its files could not be deleted just now ({reason}). "
    "Delete it again to finish."
)
# Generations whose files are deleted before their rows are let go of, per transaction.
_BATCH = 200
# Deletes in flight at once: S3 answers each in a few milliseconds, one after another that
# is minutes for a long history.
_PARALLEL_DELETES = 8
# A generation's row once its account is gone: the owner, the words, the request's parameters
# and every key of the deleted files go. The rest stays, for Analytics: when (created_at,
# completed_at), what (modality, provider, model, content type, bucket), how it went (status,
# error) and its measures (latency, time to first token, size, duration, tokens, cost).
_ANONYMOUS_GENERATION: dict[str, Any] = {
    "user_id": None,
    "prompt": "",
    "language": None,
    "voice": None,
    "input_key": None,
    "record_key": None,
    "media_key": None,
    "meta": {},
    "conversation_id": None,
    "content_sha256": None,
}
# An import job's row once its account is gone: its summary's counts stay (`counted`).
_ANONYMOUS_IMPORT: dict[str, Any] = {
    "owner_id": None,
    "request": {},
    "error": None,
    "progress_message": "",
    "generation_ids": [],
}
_STILL_FINISHING = "one of its jobs was still finishing"


class DeletionUnfinished(AtelierError):
    """The account is closed (nobody can sign in to it) but some of its data is still there;
    any later attempt finishes it."""


@dataclass(frozen=True)
class DeletionBuckets:
    modalities: dict[Modality, str]
    imports: str


class AccountDeletion:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        store: ObjectStore,
        history: HistoryIndex,
        *,
        buckets: DeletionBuckets,
        hasher: PasswordHasher,
        refresh: RefreshSessions,
        limiter: RateLimiter,
        confirmations_per_minute: int,
        now: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._history = history
        self._buckets = buckets
        self._hasher = hasher
        self._refresh = refresh
        self._limiter = limiter
        self._confirmations_per_minute = confirmations_per_minute
        self._now = now

    def own_refusal(self, account: Account) -> str | None:
        """Why the owner may not delete their account now; None when they may."""
        with self._sessions() as db:
            user = db.get(User, account.id)
            return None if user is None else deletion_refusal(user, active_admins(db))

    def delete_own(self, account: Account, password: str) -> None:
        """The owner deletes their account, confirming with their password."""
        self._confirm(account.id, password)
        self._mark(account.id, lambda _db, user, admins: deletion_refusal(user, admins))
        self._finish_or_explain(account.id, _OWN_UNFINISHED)

    def delete_by_admin(self, actor: Account, user_id: uuid.UUID, password: str) -> None:
        """An administrator deletes someone's account, confirming with their own password."""
        require_admin(actor)
        self._confirm(actor.id, password)

        def refusal(db: Session, user: User, admins: int) -> str | None:
            # The actor's role is checked again inside the transaction: it may have just changed.
            require_current_admin(db, actor)
            return admin_deletion_refusal(actor, user, admins)

        self._mark(user_id, refusal)
        self._finish_or_explain(user_id, _ADMIN_UNFINISHED)
        log.info("account deleted by admin", extra={"actor_id": str(actor.id)})

    def finish_pending(self) -> int:
        """Finish every deletion an earlier attempt left; how many were finished. One that
        fails again stays marked for the next attempt, and the others still go."""
        with self._sessions() as db:
            pending = db.scalars(select(User.id).where(User.deleting_since.is_not(None))).all()
        finished = 0
        for user_id in pending:
            try:
                self._finish(user_id)
            except (AtelierError, OSError):
                log.exception("account deletion still unfinished", extra={"user_id": str(user_id)})
            else:
                finished += 1
        return finished

    # --- the steps ---

    def _confirm(self, user_id: uuid.UUID, password: str) -> None:
        # A stolen session must not be able to guess the password here either.
        enforce(
            self._limiter,
            "confirm-password",
            {f"account:{user_id}": self._confirmations_per_minute},
        )
        with self._sessions() as db:
            password_hash = db.scalar(select(User.password_hash).where(User.id == user_id))
        if not self._hasher.verify(password, password_hash):
            raise AuthenticationFailed(NOT_CONFIRMED)

    def _mark(
        self, user_id: uuid.UUID, refusal: Callable[[Session, User, int], str | None]
    ) -> None:
        if user_id == ANONYMOUS_USER_ID:
            raise NotFound(NO_SUCH_USER)
        now = self._now()
        with transaction(self._sessions) as db:
            # The same lock as role changes: two administrators deleting each other at once
            # cannot leave nobody in charge.
            lock_for_transaction(db, "admins")
            user = db.get(User, user_id, with_for_update=True)
            if user is None:
                raise NotFound(NO_SUCH_USER)
            if reason := refusal(db, user, active_admins(db)):
                raise PermissionDenied(reason)
            if user.deleting_since is not None:
                return
            user.deleting_since = now
            user.is_active = False
            user.updated_at = now
            self._refresh.revoke_user(db, user_id, "account-deleted")
            db.execute(
                update(ApiKey)
                .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            _stop_jobs(db, user_id, now)
        log.info("account deletion started", extra={"user_id": str(user_id)})

    def _finish_or_explain(self, user_id: uuid.UUID, unfinished: str) -> None:
        try:
            self._finish(user_id)
        except (AtelierError, OSError) as error:
            log.exception("account deletion interrupted", extra={"user_id": str(user_id)})
            reason = str(error) if isinstance(error, AtelierError) else "the file store failed"
            raise DeletionUnfinished(unfinished.format(reason=reason.rstrip("."))) from error

    def _finish(self, user_id: uuid.UUID) -> None:
        with ThreadPoolExecutor(_PARALLEL_DELETES, thread_name_prefix="deletion") as pool:
            self._delete_unrowed_lines(pool, user_id)
            self._delete_generations(pool, user_id)
            self._delete_job_references(pool, user_id)
            for bucket, prefix in self._own_prefixes(user_id):
                keys = [info.key for info in self._store.list_objects(bucket, prefix)]
                _delete_all(pool, self._store, bucket, keys)
        with transaction(self._sessions) as db:
            # Locked, no generation can be added for the account until it is gone (PostgreSQL
            # checks a new row's foreign key against this row; SQLite has one writer anyway).
            db.get(User, user_id, with_for_update=True)
            late = select(Generation.id).where(Generation.user_id == user_id).limit(1)
            if db.scalar(late) is not None:
                # Its cascade would take the row's figures, and its files would stay.
                raise AtelierError(_STILL_FINISHING)
            _let_go_of_imports(db, user_id)
            db.execute(delete(User).where(User.id == user_id))
        log.info("account deleted", extra={"user_id": str(user_id)})

    def _delete_unrowed_lines(self, pool: ThreadPoolExecutor, user_id: uuid.UUID) -> None:
        with self._sessions() as db:
            rowed = set(db.scalars(select(Generation.id).where(Generation.user_id == user_id)))
        for modality, bucket in self._buckets.modalities.items():
            folders = [
                request_prefix(entry.id, entry.created_at)
                for entry in self._history.entries(user_id, [modality])
                if entry.id not in rowed
            ]
            for folder in folders:
                keys = [info.key for info in self._store.list_objects(bucket, folder)]
                _delete_all(pool, self._store, bucket, keys)

    def _delete_generations(self, pool: ThreadPoolExecutor, user_id: uuid.UUID) -> None:
        while True:
            with self._sessions() as db:
                rows = db.scalars(
                    select(Generation)
                    .where(Generation.user_id == user_id)
                    .order_by(Generation.id)
                    .limit(_BATCH)
                ).all()
            if not rows:
                return
            # list() waits for every row's files and raises the first failure: rows whose
            # files may remain keep their keys and owner.
            list(pool.map(self._delete_files_of, rows))
            batch = Generation.id.in_([r.id for r in rows])
            with transaction(self._sessions) as db:
                db.execute(delete(Generation).where(batch, Generation.provider == IMPORT_PROVIDER))
                db.execute(update(Generation).where(batch).values(**_ANONYMOUS_GENERATION))

    def _delete_files_of(self, row: Generation) -> None:
        for key in generation_files(self._store, row):
            self._store.delete(row.s3_bucket, key)

    def _delete_job_references(self, pool: ThreadPoolExecutor, user_id: uuid.UUID) -> None:
        bucket = self._buckets.modalities[Modality.IMAGE]
        with self._sessions() as db:
            job_ids = db.scalars(select(Job.id).where(Job.owner_id == user_id)).all()
        for job_id in job_ids:
            keys = [info.key for info in self._store.list_objects(bucket, f"jobs/{job_id}/")]
            _delete_all(pool, self._store, bucket, keys)

    def _own_prefixes(self, user_id: uuid.UUID) -> Iterable[tuple[str, str]]:
        # The index and the avatar (users/{id}/...) in each modality bucket; imports are
        # filed under the bare id in theirs (core/imports/library.py).
        for bucket in dict.fromkeys(self._buckets.modalities.values()):
            yield bucket, f"users/{user_id}/"
        yield self._buckets.imports, f"{user_id}/"


def _stop_jobs(db: Session, user_id: uuid.UUID, now: datetime) -> None:
    """No job of the account may start any more; running ones stop at their next boundary."""
    db.execute(
        update(Job)
        .where(Job.owner_id == user_id, Job.state == Status.PENDING.value)
        .values(
            state=Status.CANCELLED.value,
            cancel_requested=True,
            finished_at=now,
            progress_message="Cancelled: the account is being deleted.",
        )
    )
    db.execute(
        update(Job)
        .where(Job.owner_id == user_id, Job.state == Status.RUNNING.value)
        .values(cancel_requested=True, progress_message="Cancelling…")
    )


def _let_go_of_imports(db: Session, user_id: uuid.UUID) -> None:
    """The account's import jobs keep their counts for Analytics, and nothing else."""
    imports = db.execute(
        select(Job.id, Job.summary).where(
            Job.owner_id == user_id, Job.kind == JobKind.IMPORT.value, Job.summary.is_not(None)
        )
    ).all()
    for job_id, summary in imports:
        db.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(**_ANONYMOUS_IMPORT, summary=counted(summary))
        )


def _delete_all(pool: ThreadPoolExecutor, store: ObjectStore, bucket: str, keys: list[str]) -> None:
    list(pool.map(lambda key: store.delete(bucket, key), keys))
