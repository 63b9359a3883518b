"""The composition root: wires settings into the objects every face uses (pages, API, workers)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_network
from typing import assert_never

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.account_deletion import AccountDeletion, DeletionBuckets
from core.admin.console import AdminConsole
from core.analytics import Analytics
from core.anonymous import AnonymousGeneration
from core.auth.account import Role
from core.auth.api_keys import ApiKeys
from core.auth.passwords import PasswordHasher
from core.auth.rate_limit import RateLimiter, RedisRateLimiter, SqlRateLimiter
from core.auth.service import AuthLimits, AuthService
from core.auth.sessions import RefreshSessions
from core.auth.tokens import AccessTokens, Tickets, load_signing_keys
from core.avatars import Avatars
from core.config import Settings
from core.export import Exports
from core.gallery import Gallery
from core.generation.chat import ChatPrices, ChatStudio
from core.generation.image import ImageStudio
from core.generation.pipeline import GenerationPipeline
from core.generation.speech import SpeechStudio
from core.history import HistoryIndex
from core.imports.fetch import FetchLimits
from core.imports.guard import AddressGuard
from core.imports.importer import ImportSettings
from core.imports.jobs import ImportJobHandler, ImportJobs
from core.imports.library import ImportLibrary
from core.imports.validate import ImageLimits
from core.jobs.dispatch import EmbeddedDispatch, Heartbeat, JobDispatch
from core.jobs.generation_jobs import GenerationJobHandlers, GenerationJobs
from core.jobs.model import JobKind
from core.jobs.notices import FinishedJobs, PostgresNotices
from core.jobs.queue import JobQueue
from core.jobs.retries import JobRetries
from core.jobs.runner import JobHandler, JobRunner, worker_name
from core.jobs.store import Fairness, JobStore
from core.limits import GenerationLimits, LimitOverrides
from core.modality import Modality
from core.providers.chat.base import ChatProvider
from core.providers.chat.registry import build_chat_providers, default_chat_provider
from core.providers.image.base import ImageProvider
from core.providers.image.registry import build_image_providers, default_image_provider
from core.providers.speech.base import SpeechProvider
from core.providers.speech.registry import build_speech_providers, default_speech_provider
from storage.db import create_db_engine, create_session_factory
from storage.migrate import upgrade_to_head
from storage.models import utcnow
from storage.objects import LocalObjectStore, ObjectStore, S3ObjectStore, S3Options

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    db: sessionmaker[Session]
    objects: ObjectStore
    auth: AuthService
    api_keys: ApiKeys
    history: HistoryIndex
    pipeline: GenerationPipeline
    gallery: Gallery
    speech: SpeechStudio
    images: ImageStudio
    avatars: Avatars
    chat: ChatStudio
    limits: GenerationLimits
    analytics: Analytics
    admin: AdminConsole
    account_deletion: AccountDeletion
    exports: Exports
    anonymous: AnonymousGeneration
    # Image and speech generations as jobs; the queue to follow, cancel and wait for them.
    jobs: GenerationJobs
    # Bulk image imports (seed 003), also jobs; and trying any finished job again.
    imports: ImportJobs
    import_library: ImportLibrary
    retries: JobRetries
    queue: JobQueue
    job_runner: JobRunner
    heartbeat: Heartbeat

    def close(self) -> None:
        self.queue.close()
        self.heartbeat.stop()
        self.job_runner.close()
        self.pipeline.close()
        self.history.close()
        providers: list[ImageProvider | SpeechProvider | ChatProvider] = [
            *self.images.providers.values(),
            *self.speech.providers.values(),
            *self.chat.providers.values(),
        ]
        for provider in providers:
            provider.close()
        self.engine.dispose()


def build_object_store(settings: Settings) -> ObjectStore:
    if not settings.uses_s3:
        return LocalObjectStore(settings.data_dir / "objects")
    return S3ObjectStore(
        S3Options(
            endpoint_url=settings.s3_endpoint_url,
            public_endpoint_url=settings.s3_public_endpoint_url,
            region=settings.s3_region,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
        )
    )


def role_limits(settings: Settings) -> dict[Role, LimitOverrides]:
    """Each role's limits from the LIMIT_*_<role> settings."""
    return {role: _limits_of(settings, role) for role in Role}


def _limits_of(settings: Settings, role: Role) -> LimitOverrides:
    # Written out so a new role or modality is a type error here, not a failure at start.
    match role:
        case Role.USER:
            return LimitOverrides(
                generations_per_minute=settings.limit_generations_per_minute_user,
                daily_image=settings.limit_daily_image_user,
                daily_speech=settings.limit_daily_speech_user,
                daily_chat=settings.limit_daily_chat_user,
            )
        case Role.ADMIN:
            return LimitOverrides(
                generations_per_minute=settings.limit_generations_per_minute_admin,
                daily_image=settings.limit_daily_image_admin,
                daily_speech=settings.limit_daily_speech_admin,
                daily_chat=settings.limit_daily_chat_admin,
            )
        case _:
            assert_never(role)


def start_job_pool(services: Services) -> None:
    """With no broker, this process runs the jobs: start its pool, and announce again the
    jobs an earlier process left queued. A Celery deployment's workers do this themselves."""
    metrics.count_jobs_with(
        lambda: {(queue, state.value): n for (queue, state), n in services.queue.depth().items()}
    )
    dispatch = services.queue.dispatch
    if isinstance(dispatch, EmbeddedDispatch):
        services.heartbeat.start()
        pending = services.queue.store.pending(services.job_runner.queues)
        dispatch.start([job.id for job in pending])


def prepare_storage(services: Services) -> None:
    """Bring the schema and the buckets up to date: once when a deployment starts, by the web
    process; workers and tests that share an already prepared store skip it."""
    upgrade_to_head(services.engine)
    services.objects.ensure_buckets(services.settings.buckets)


def start_services(settings: Settings, *, now: Callable[[], datetime] = utcnow) -> Services:
    """Build the services and prepare their storage."""
    services = build_services(settings, now=now)
    try:
        prepare_storage(services)
        # Deletions a crash or an outage interrupted: the accounts are closed already.
        services.account_deletion.finish_pending()
        start_job_pool(services)
    except BaseException:
        services.close()
        raise
    return services


def build_services(settings: Settings, *, now: Callable[[], datetime] = utcnow) -> Services:
    """Connect everything; touches neither the schema nor the buckets (see `prepare_storage`)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    db = create_session_factory(engine)
    objects = build_object_store(settings)

    limiter: RateLimiter = (
        RedisRateLimiter(settings.redis_url) if settings.redis_url else SqlRateLimiter(db, now)
    )
    hasher = PasswordHasher(settings.bcrypt_rounds)
    # One instance: the admin console revokes the sessions the auth service checks.
    refresh = RefreshSessions(
        db,
        ttl_days=settings.refresh_token_ttl_days,
        handoff_ttl_seconds=settings.cookie_handoff_ttl_seconds,
        reuse_leeway_seconds=settings.refresh_token_reuse_leeway_seconds,
        now=now,
    )
    # Loaded once (an RS256 key takes ~60 ms): access tokens and export tickets share them.
    signing_keys = load_signing_keys(settings)
    auth = AuthService(
        db,
        hasher=hasher,
        tokens=AccessTokens(
            signing_keys,
            issuer=settings.jwt_issuer,
            ttl_seconds=settings.access_token_ttl_seconds,
            now=now,
        ),
        refresh=refresh,
        limiter=limiter,
        limits=AuthLimits(
            login_per_minute=settings.login_limit_per_minute,
            login_per_ip_per_minute=settings.login_ip_limit_per_minute,
            register_per_ip_per_minute=settings.register_limit_per_minute,
            password_min_length=settings.password_min_length,
        ),
        now=now,
    )
    history = HistoryIndex(objects, settings.bucket_for)
    limits = GenerationLimits(db, limiter, role_limits(settings), now)
    pipeline = GenerationPipeline(
        db, objects, history, bucket_for=settings.bucket_for, now=now, admit=limits.admit
    )
    gallery = Gallery(db, objects, history, presign_ttl_seconds=settings.s3_presign_ttl_seconds)
    avatars = Avatars(objects, settings.bucket_for(Modality.IMAGE))
    images = ImageStudio(
        pipeline,
        build_image_providers(settings),
        default_provider=default_image_provider(settings),
        avatars=avatars,
        store=objects,
        presign_ttl_seconds=settings.s3_presign_ttl_seconds,
    )
    speech = SpeechStudio(
        pipeline,
        build_speech_providers(settings),
        default_provider=default_speech_provider(settings),
        max_characters=settings.speech_max_characters,
    )
    chat = ChatStudio(
        db,
        pipeline,
        objects,
        gallery,
        build_chat_providers(settings),
        default_provider=default_chat_provider(settings),
        prices={
            "openai": ChatPrices(
                settings.chat_api_price_input_per_million_tokens,
                settings.chat_api_price_output_per_million_tokens,
            )
        },
        now=now,
    )
    job_store = JobStore(
        db,
        now,
        fairness=Fairness(running_per_owner=settings.job_running_per_user),
        stale_after_seconds=settings.job_stale_after_seconds,
        max_attempts=settings.job_max_attempts,
    )
    image_bucket = settings.bucket_for(Modality.IMAGE)
    finished = FinishedJobs()
    import_library = ImportLibrary(db, objects, history, bucket=settings.s3_bucket_imports)
    handlers: dict[JobKind, JobHandler] = {
        **GenerationJobHandlers(
            pipeline, images, speech, objects, image_bucket=image_bucket
        ).handlers(),
        JobKind.IMPORT: ImportJobHandler(import_library, _import_settings(settings), now),
    }
    runner = JobRunner(
        job_store,
        handlers,
        worker_id=worker_name(),
        queues=settings.worker_queues,
        now=now,
        on_finished=finished.announce,
    )
    dispatch = _job_dispatch(settings, runner)
    queue = JobQueue(
        job_store,
        dispatch,
        finished,
        notices=(
            PostgresNotices(settings.resolved_database_url, finished)
            if engine.dialect.name == "postgresql"
            else None
        ),
        runs_jobs_here=isinstance(dispatch, EmbeddedDispatch),
    )
    heartbeat = Heartbeat(
        job_store,
        runner,
        engines=[*images.providers, *speech.providers, "import"],
        interval_seconds=settings.job_heartbeat_seconds,
        resend=dispatch.send,
    )
    jobs = GenerationJobs(queue, images, speech, limits, objects, image_bucket=image_bucket)
    imports = ImportJobs(queue, import_library, max_images=settings.import_max_images_per_job)
    retries = JobRetries(
        queue,
        {
            JobKind.IMAGE: jobs.again,
            JobKind.SPEECH: jobs.again,
            JobKind.IMPORT: imports.retry_failures,
        },
    )
    log.info(
        "services ready",
        extra={
            "database": engine.dialect.name,
            "object_store": type(objects).__name__,
            "rate_limits": type(limiter).__name__,
        },
    )
    return Services(
        settings=settings,
        engine=engine,
        db=db,
        objects=objects,
        auth=auth,
        api_keys=ApiKeys(db, now=now),
        history=history,
        pipeline=pipeline,
        gallery=gallery,
        speech=speech,
        images=images,
        avatars=avatars,
        chat=chat,
        limits=limits,
        analytics=Analytics(db, now),
        admin=AdminConsole(
            db,
            objects,
            refresh=refresh,
            presign_ttl_seconds=settings.s3_presign_ttl_seconds,
            limiter=limiter,
            requests_per_minute=settings.limit_admin_requests_per_minute,
            now=now,
        ),
        account_deletion=AccountDeletion(
            db,
            objects,
            history,
            buckets=DeletionBuckets(
                modalities={modality: settings.bucket_for(modality) for modality in Modality},
                imports=settings.s3_bucket_imports,
            ),
            hasher=hasher,
            refresh=refresh,
            limiter=limiter,
            confirmations_per_minute=settings.login_limit_per_minute,
            now=now,
        ),
        exports=Exports(
            db, objects, Tickets(signing_keys, issuer=settings.jwt_issuer, now=now), now=now
        ),
        anonymous=AnonymousGeneration(
            db,
            limiter,
            hasher,
            enabled=settings.anonymous_generation,
            per_ip_per_minute=settings.limit_anonymous_generations_per_minute,
            now=now,
        ),
        jobs=jobs,
        imports=imports,
        import_library=import_library,
        retries=retries,
        queue=queue,
        job_runner=runner,
        heartbeat=heartbeat,
    )


def _import_settings(settings: Settings) -> ImportSettings:
    return ImportSettings(
        fetch=FetchLimits(
            max_concurrent=settings.import_max_concurrent_downloads,
            per_domain=settings.import_max_per_domain,
            connect_timeout=settings.import_connect_timeout_seconds,
            read_timeout=settings.import_read_timeout_seconds,
            max_attempts=settings.import_max_attempts,
            max_redirects=settings.import_max_redirects,
            max_bytes=settings.import_max_image_bytes,
        ),
        image=ImageLimits(
            max_pixels=settings.import_max_image_pixels, max_bytes=settings.import_max_image_bytes
        ),
        guard=AddressGuard(
            allow_private=settings.import_allow_private_networks,
            allowed_networks=[
                ip_network(n, strict=False) for n in settings.import_allowed_network_list
            ],
        ),
    )


def _job_dispatch(settings: Settings, runner: JobRunner) -> JobDispatch:
    if not settings.celery_broker_url:
        return EmbeddedDispatch(runner, threads=settings.job_embedded_workers)
    # The one door to Celery: only deployments with a broker load it.
    from queueing.celery_dispatch import CeleryDispatch

    return CeleryDispatch(settings)
