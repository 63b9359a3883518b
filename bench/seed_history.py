"""Seed a database with synthetic history: N users, M generations over D days, a realistic mix.

Modalities about 50 % image, 35 % speech, 15 % chat; several providers and models with their own
latency distributions and failure rates (about 4 % overall, with the messages the providers
really give); audio durations, chat tokens and API costs; prompts drawn from a word list, so a
text search finds some. Every generation also gets its usage event. A few users make most of
the generations, as in real life. The same --seed gives the same history.

PostgreSQL is loaded with COPY (a million rows with their events in about two minutes on 2
cores); SQLite with batched inserts. `--with-media N` also writes the N newest image and speech
generations to the object store the settings point at (S3_* or DATA_DIR), through the real
layout: media, input.json, record.json and the user's history index, so the Gallery shows them.

    python -m bench.seed_history --database-url postgresql+psycopg://... \
        --users 500 --generations 1000000 --days 365 [--with-media 50]
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import Engine, Row, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.auth.passwords import PasswordHasher
from core.config import Settings
from core.generation.records import GenerationRecord
from core.history import HistoryIndex, IndexEntry
from core.modality import Modality
from core.services import build_object_store
from storage.db import create_db_engine
from storage.migrate import upgrade_to_head
from storage.models import Generation, UsageEvent, User

CHUNK = 100_000
DEMO_PASSWORD = "correct horse 42"
UNEXPECTED = "The generation failed unexpectedly. It has been logged; please try again."
TOO_LONG = "The message is too long for this model. Shorten it."
MODALITY_SHARE = {"image": 0.50, "speech": 0.35, "chat": 0.15}
CHAT_PRICE_PER_MILLION = (0.15, 0.60)  # input, output tokens on the API


@dataclass(frozen=True)
class Offer:
    """A provider and model: how often it is picked, how fast it is, how it fails."""

    modality: str
    provider: str
    model: str
    share: float  # within its modality
    median_ms: float
    spread: float  # sigma of the log-normal latency
    failure_rate: float
    errors: tuple[tuple[str, float], ...]


CATALOG = [
    Offer("image", "sketch", "sketch-v2", 0.45, 90, 0.35, 0.004, ((UNEXPECTED, 1),)),
    Offer("image", "pollinations", "flux", 0.30, 4500, 0.5, 0.10, (
        ("Pollinations did not send the image within 60 s. It may be busy: try again, or "
         "choose a faster model such as turbo.", 0.5),
        ("Pollinations is rate limiting us. Wait a minute and try again.", 0.3),
        ("Pollinations is having trouble (HTTP 502). Try again later.", 0.2),
    )),
    Offer("image", "pollinations", "turbo", 0.15, 1800, 0.45, 0.06, (
        ("Pollinations is rate limiting us. Wait a minute and try again.", 0.6),
        ("Pollinations broke off while sending the image. Try again.", 0.4),
    )),
    Offer("image", "diffusers", "sd-turbo", 0.10, 7000, 0.3, 0.03, ((UNEXPECTED, 1),)),
    Offer("speech", "offline", "offline", 0.60, 700, 0.45, 0.01, ((UNEXPECTED, 1),)),
    Offer("speech", "offline", "offline-slow", 0.10, 950, 0.45, 0.01, ((UNEXPECTED, 1),)),
    Offer("speech", "gtts", "gtts", 0.25, 900, 0.5, 0.08, (
        ("Could not reach Google Text-to-Speech. Check the network or its address.", 0.6),
        ("Google Text-to-Speech is rate limiting us. Wait a minute and try again.", 0.4),
    )),
    Offer("speech", "gtts", "gtts-slow", 0.05, 1100, 0.5, 0.08, (
        ("Could not reach Google Text-to-Speech. Check the network or its address.", 1),
    )),
    Offer("chat", "local", "SmolLM2-135M-Instruct", 0.55, 2500, 0.6, 0.03, (
        (TOO_LONG, 0.7), (UNEXPECTED, 0.3),
    )),
    Offer("chat", "openai", "gpt-4o-mini", 0.45, 1600, 0.5, 0.06, (
        ("The chat API is rate limiting us. Wait a minute and try again.", 0.5),
        ("The chat API did not answer in time. Try again later.", 0.3),
        ("The chat API is having trouble (HTTP 503). Try again later.", 0.2),
    )),
]  # fmt: skip

ADJECTIVES = [
    "quiet",
    "red",
    "golden",
    "misty",
    "ancient",
    "tiny",
    "neon",
    "frozen",
    "sunlit",
    "stormy",
    "gentle",
    "wild",
    "silver",
    "forgotten",
    "floating",
    "velvet",
    "crystal",
    "rusty",
]
SUBJECTS = [
    "fox",
    "lighthouse",
    "castle",
    "forest",
    "robot",
    "whale",
    "garden",
    "city",
    "mountain",
    "dragon",
    "cat",
    "owl",
    "harbor",
    "train",
    "library",
    "bridge",
    "desert",
    "violin",
]
SCENES = [
    "at dusk",
    "in the rain",
    "under the stars",
    "by the sea",
    "in watercolor",
    "on a winter morning",
    "in the style of a woodcut",
    "seen from above",
    "at sunrise",
    "in fog",
]
SENTENCES = [
    "Welcome to the studio, today we talk about the {s}.",
    "Hola, bienvenidos: hoy hablamos del {s}.",
    "The {a} {s} waits {c}.",
    "Please read this {a} story about a {s} slowly.",
]
QUESTIONS = [
    "How do I draw a {a} {s}?",
    "Write a short poem about a {s} {c}.",
    "Explain why the {s} is {a}, in two sentences.",
    "Summarise the history of the {s}.",
]
CONTENT = {"image": "image/png", "speech": "audio/mpeg", "chat": "application/json"}
MEDIA = {
    "image": "image/original.png",
    "speech": "audio/output.mp3",
    "chat": "chat/conversation.json",
}
LANGUAGES = ["en", "en", "en", "es", "fr", "de", "ja", "it"]


def _uuids(rng: np.random.Generator, count: int) -> list[str]:
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return [str(uuid.UUID(bytes=row.tobytes())) for row in raw]


def _prompts(rng: np.random.Generator, modality: np.ndarray) -> list[str]:
    a = rng.integers(0, len(ADJECTIVES), len(modality))
    s = rng.integers(0, len(SUBJECTS), len(modality))
    c = rng.integers(0, len(SCENES), len(modality))
    t = rng.integers(0, len(SENTENCES), len(modality))
    prompts = []
    for kind, ai, si, ci, ti in zip(modality, a, s, c, t, strict=True):
        words = {"a": ADJECTIVES[ai], "s": SUBJECTS[si], "c": SCENES[ci]}
        if kind == "image":
            prompts.append(f"A {words['a']} {words['s']} {words['c']}")
        elif kind == "speech":
            prompts.append(SENTENCES[ti].format(**words))
        else:
            prompts.append(QUESTIONS[ti].format(**words))
    return prompts


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, n)


def _nullable(values: np.ndarray, present: np.ndarray, dtype: str = "Int64") -> pd.Series:
    series = pd.Series(values).astype(dtype)
    return series.where(present)


def generation_chunk(
    rng: np.random.Generator,
    created: np.ndarray,
    user_ids: list[str],
    user_weights: np.ndarray,
    buckets: dict[str, str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One chunk of `generations` rows and their `usage_events`, as DataFrames."""
    n = len(created)
    modality = rng.choice(list(MODALITY_SHARE), n, p=list(MODALITY_SHARE.values()))
    offer = np.empty(n, dtype=np.int64)
    for kind in MODALITY_SHARE:
        mask = modality == kind
        choices = [i for i, o in enumerate(CATALOG) if o.modality == kind]
        shares = np.array([CATALOG[i].share for i in choices])
        offer[mask] = rng.choice(choices, mask.sum(), p=shares / shares.sum())
    latency = np.zeros(n)
    failed = np.zeros(n, dtype=bool)
    error = np.full(n, None, dtype=object)
    for i, o in enumerate(CATALOG):
        mask = offer == i
        count = int(mask.sum())
        latency[mask] = _lognormal(rng, o.median_ms, o.spread, count)
        failed[mask] = rng.random(count) < o.failure_rate
        reasons, weights = zip(*o.errors, strict=True)
        picked = rng.choice(len(reasons), count, p=np.array(weights) / sum(weights))
        error[mask] = np.array(reasons, dtype=object)[picked]
    error[~failed] = None
    latency_ms = np.maximum(1, latency.round()).astype(np.int64)
    ok = ~failed
    is_image, is_speech, is_chat = (modality == m for m in ("image", "speech", "chat"))
    slow = np.array([CATALOG[i].model.endswith("-slow") for i in offer])
    duration = np.clip(_lognormal(rng, 12, 0.8, n) * np.where(slow, 1.4, 1.0), 0.5, 600).round(2)
    tokens_in = np.maximum(5, _lognormal(rng, 300, 0.9, n).round()).astype(np.int64)
    tokens_out = np.maximum(1, _lognormal(rng, 180, 0.7, n).round()).astype(np.int64)
    is_api = np.array([CATALOG[i].provider == "openai" for i in offer])
    price_in, price_out = CHAT_PRICE_PER_MILLION
    cost = np.where(is_chat & is_api & ok, (tokens_in * price_in + tokens_out * price_out) / 1e6, 0)
    size = np.where(
        is_image,
        _lognormal(rng, 600_000, 0.4, n),
        np.where(is_speech, duration * 16_000, _lognormal(rng, 2_000, 0.5, n)),
    ).astype(np.int64)

    ids = _uuids(rng, n)
    users = np.array(user_ids, dtype=object)[rng.choice(len(user_ids), n, p=user_weights)]
    created_at = pd.to_datetime((created * 1e6).astype(np.int64), unit="us", utc=True)
    completed_at = created_at + pd.to_timedelta(latency_ms, unit="ms")
    folders = created_at.strftime("requests/%Y/%m/%d/")
    prefixes = [f"{folder}{gid}/" for folder, gid in zip(folders, ids, strict=True)]
    media_names = np.array([MEDIA[m] for m in ("image", "speech", "chat")], dtype=object)
    media_index = np.where(is_image, 0, np.where(is_speech, 1, 2))
    media_key = [
        p + media_names[k] if good else None
        for p, k, good in zip(prefixes, media_index, ok, strict=True)
    ]
    generations = pd.DataFrame(
        {
            "id": ids,
            "user_id": users,
            "modality": modality,
            "provider": [CATALOG[i].provider for i in offer],
            "model": [CATALOG[i].model for i in offer],
            "status": np.where(failed, "failed", "completed"),
            "prompt": _prompts(rng, modality),
            "language": pd.Series(rng.choice(LANGUAGES, n)).where(is_speech),
            "voice": None,
            "s3_bucket": [buckets[m] for m in modality],
            "input_key": [p + "input.json" for p in prefixes],
            "record_key": [p + "record.json" for p in prefixes],
            "media_key": media_key,
            "content_type": pd.Series([CONTENT[m] for m in modality]).where(ok),
            "latency_ms": latency_ms,
            "size_bytes": _nullable(size, ok),
            "duration_seconds": _nullable(duration, is_speech & ok, "Float64"),
            "tokens_in": _nullable(tokens_in, is_chat & ok),
            "tokens_out": _nullable(tokens_out, is_chat & ok),
            "time_to_first_token_ms": _nullable((latency_ms * 0.2).astype(np.int64), is_chat & ok),
            "cost_usd": cost.round(6),
            "error": error,
            "created_at": created_at,
            "completed_at": completed_at,
            "metadata": '{"seeded": true}',
        }
    )
    quantity = np.where(ok, np.where(is_image, 1, np.where(is_speech, duration, tokens_out)), 0)
    events = pd.DataFrame(
        {
            "user_id": users,
            "generation_id": ids,
            "event_type": np.where(failed, "generation.failed", "generation.completed"),
            "modality": modality,
            "provider": generations["provider"],
            "model": generations["model"],
            "quantity": quantity.round(3),
            "cost_usd": generations["cost_usd"],
            "created_at": completed_at,
            "metadata": [f'{{"latency_ms": {ms}}}' for ms in latency_ms],
        }
    )
    return generations, events


def _creation_times(rng: np.random.Generator, count: int, days: int, now: datetime) -> np.ndarray:
    """Seconds since the epoch, oldest first, spread evenly over the last `days` days."""
    ages = rng.random(count) * days * 86_400
    return np.sort(now.timestamp() - ages)


def _seed_users(
    engine: Engine, count: int, password: str, domain: str
) -> tuple[list[str], str | None]:
    """Create (or reuse) the users; the first one is the admin when the table was empty."""
    password_hash = PasswordHasher(4).hash(password)
    emails = [f"user{i:05d}@{domain}" for i in range(count)]
    with engine.begin() as db:
        empty = db.execute(select(func.count()).select_from(User)).scalar_one() == 0
        stamp = datetime.now(UTC)
        rows = [
            {
                "id": uuid.uuid4(), "email": email, "password_hash": password_hash,
                "role": "admin" if empty and i == 0 else "user", "is_active": True,
                "created_at": stamp, "updated_at": stamp,
            }
            for i, email in enumerate(emails)
        ]  # fmt: skip
        dialect_insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        for start in range(0, len(rows), 1000):
            db.execute(
                dialect_insert(User).on_conflict_do_nothing(index_elements=["email"]),
                rows[start : start + 1000],
            )
        by_email = dict(db.execute(select(User.email, User.id).where(User.email.in_(emails))).all())
    return [str(by_email[e]) for e in emails], emails[0] if empty else None


def _copy(engine: Engine, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    raw = engine.raw_connection()
    try:
        statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()


def _records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    for row in frame.to_dict("records"):
        yield {
            key: (None if value is None or value is pd.NA or value != value else value)
            for key, value in row.items()
        }


def _insert_sqlite(engine: Engine, generations: pd.DataFrame, events: pd.DataFrame) -> None:
    def typed(row: dict[str, Any]) -> dict[str, Any]:
        for key in ("id", "user_id", "generation_id"):
            if key in row:
                row[key] = uuid.UUID(row[key])
        for key in ("created_at", "completed_at"):
            if key in row:
                row[key] = row[key].to_pydatetime()
        for key in ("cost_usd", "duration_seconds", "quantity"):
            if row.get(key) is not None:
                row[key] = Decimal(str(row[key]))
        row["meta"] = json.loads(row.pop("metadata"))
        return row

    with engine.begin() as db:
        db.execute(insert(Generation), [typed(r) for r in _records(generations)])
        db.execute(insert(UsageEvent), [typed(r) for r in _records(events)])


def seed_history(
    engine: Engine,
    *,
    users: int,
    generations: int,
    days: int,
    now: datetime | None = None,
    seed: int = 7,
    password: str = DEMO_PASSWORD,
    email_domain: str = "example.com",
    buckets: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Load the history; returns a JSON-ready summary."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    now = now or datetime.now(UTC)
    buckets = buckets or {
        m.value: Settings.model_fields[f"s3_bucket_{m}"].default for m in Modality
    }
    user_ids, admin = _seed_users(engine, users, password, email_domain)
    # A few heavy users make most of the generations (a Zipf-like share).
    weights = 1 / np.arange(1, len(user_ids) + 1) ** 0.8
    weights /= weights.sum()
    created = _creation_times(rng, generations, days, now)
    postgres = engine.dialect.name == "postgresql"
    chunk = CHUNK if postgres else 20_000
    for start in range(0, generations, chunk):
        rows, events = generation_chunk(
            rng, created[start : start + chunk], user_ids, weights, buckets
        )
        if postgres:
            _copy(engine, "generations", rows)
            _copy(engine, "usage_events", events)
        else:
            _insert_sqlite(engine, rows, events)
    return {
        "users": len(user_ids),
        "generations": generations,
        "usage_events": generations,
        "days": days,
        "newest": now.isoformat(),
        "admin_email": admin,
        "password": password,
        "database": engine.dialect.name,
        "seconds": round(time.perf_counter() - started, 2),
    }


def vacuum_analyze(engine: Engine) -> float:
    """PostgreSQL: refresh statistics and the visibility map (index-only scans need it)."""
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.execute(text("VACUUM ANALYZE generations"))
            db.execute(text("VACUUM ANALYZE usage_events"))
    else:
        with engine.connect() as db:
            db.execute(text("ANALYZE"))
    return round(time.perf_counter() - started, 2)


# ---- --with-media: a few real objects for demos -------------------------------------------


def _png(width: int, height: int, seed: int) -> bytes:
    """A small gradient PNG, written by hand (no imaging library needed)."""
    rng = np.random.default_rng(seed)
    start, stop = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = (
        np.linspace(0, 1, width)[None, :, None] * 0.5
        + np.linspace(0, 1, height)[:, None, None] * 0.5
    )
    pixels = (start + (stop - start) * t).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _silent_mp3(seconds: float) -> bytes:
    """MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz): 417 bytes, 26 ms each."""
    frame = bytes.fromhex("fffb9004") + bytes(413)
    return frame * max(1, min(int(seconds * 38.28), 2000))


# Distinct media bodies written in turn: a rebuild reads records and lists media, it does not
# look at pixels, so 100,000 generations need not draw 100,000 pictures.
_IMAGE_VARIANTS = 32
# Concurrent PUTs: SeaweedFS on loopback keeps up with this many on 2 cores.
_WRITERS = 16


@lru_cache(maxsize=2 * _IMAGE_VARIANTS)
def _image_variant(side: int, variant: int) -> bytes:
    return _png(side, side, variant)


@lru_cache(maxsize=256)
def _speech_variant(seconds: float) -> bytes:
    return _silent_mp3(seconds)


# Stores one object: bucket, key, body, content type.
Put = Callable[[str, str, bytes, str], object]


class FilerWriter:
    """Writes objects through a SeaweedFS filer's HTTP API (`PUT /buckets/{bucket}/{key}`):
    the same objects S3 then serves, at about half the CPU of a signed S3 PUT on each side,
    which is what seeding 100,000 generations on 2 cores is bound by."""

    def __init__(self, filer_url: str) -> None:
        self._client = httpx.Client(
            base_url=filer_url, limits=httpx.Limits(max_connections=_WRITERS), timeout=60
        )

    def put(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        path = f"/buckets/{bucket}/{quote(key, safe='/')}"
        answer = self._client.put(path, content=data, headers={"Content-Type": content_type})
        answer.raise_for_status()

    def close(self) -> None:
        self._client.close()


def _write_generation(put: Put, settings: Settings, row: Row[Any], number: int) -> IndexEntry:
    """Put one generation's media, input.json and record.json; return its index line."""
    modality = Modality(row.modality)
    bucket = settings.bucket_for(modality)
    prefix = row.input_key.removesuffix("input.json")
    params: dict[str, Any] = {"prompt": row.prompt, "provider": row.provider, "model": row.model}
    thumbnail_key = None
    if modality is Modality.IMAGE:
        params |= {"size": "512x512", "seed": number}
        media = _image_variant(512, number % _IMAGE_VARIANTS)
        thumbnail_key = prefix + "image/thumbnail.webp"
        put(bucket, thumbnail_key, _image_variant(128, number % _IMAGE_VARIANTS), "image/png")
    else:
        params |= {"language": row.language, "speed": "normal"}
        media = _speech_variant(round(float(row.duration_seconds or 3), 1))
    put(bucket, row.media_key, media, row.content_type)
    put(bucket, row.input_key, json.dumps(params).encode(), "application/json")
    record = GenerationRecord(
        id=row.id, user_id=row.user_id, modality=modality, status="completed",
        provider=row.provider, model=row.model, prompt=row.prompt, params=params,
        created_at=row.created_at, bucket=bucket, input_key=row.input_key,
        record_key=row.record_key, media_key=row.media_key, thumbnail_key=thumbnail_key,
        content_type=row.content_type, completed_at=row.completed_at,
        latency_ms=row.latency_ms, size_bytes=len(media), meta={"seeded": True},
    )  # fmt: skip
    put(bucket, row.record_key, json.dumps(record.to_json()).encode(), "application/json")
    return IndexEntry(
        id=row.id, created_at=row.created_at, modality=modality,
        provider=row.provider, model=row.model, prompt=row.prompt,
        media_key=row.media_key, thumbnail_key=thumbnail_key,
        record_key=row.record_key, content_type=row.content_type, params=params,
        meta={"seeded": True},
    )  # fmt: skip


def write_media(engine: Engine, settings: Settings, count: int, *, put: Put | None = None) -> int:
    """The `count` newest completed image and speech generations get real objects.

    Objects are written by a pool of threads (with `put`, e.g. a `FilerWriter`, or else the
    settings' object store), and each user's index lines go in at the end with one rewrite per
    day file, as an import batch does: one append per generation would rewrite a growing day
    file once per line."""
    store = build_object_store(settings)
    put_object = put or store.put
    store.ensure_buckets(settings.buckets)
    history = HistoryIndex(store, settings.bucket_for)
    with engine.connect() as db:
        rows = db.execute(
            select(Generation)
            .where(Generation.status == "completed", Generation.modality.in_(["image", "speech"]))
            .order_by(Generation.created_at.desc())
            .limit(count)
        ).all()
    by_user: dict[uuid.UUID, list[IndexEntry]] = defaultdict(list)
    try:
        with ThreadPoolExecutor(max_workers=_WRITERS, thread_name_prefix="seed") as pool:
            written = pool.map(
                lambda numbered: _write_generation(put_object, settings, numbered[1], numbered[0]),
                enumerate(rows),
            )
            for row, entry in zip(rows, written, strict=True):
                by_user[row.user_id].append(entry)
            list(pool.map(lambda user: history.append_many(user, by_user[user]), by_user))
    finally:
        history.close()
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: DATABASE_URL or the embedded SQLite")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--generations", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--email-domain", default="example.com")
    parser.add_argument("--with-media", type=int, default=0, metavar="N")
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE")
    arguments = parser.parse_args()

    overrides = {"database_url": arguments.database_url} if arguments.database_url else {}
    settings = Settings(**overrides)
    engine = create_db_engine(settings.resolved_database_url)
    upgrade_to_head(engine)
    summary = seed_history(
        engine,
        users=arguments.users,
        generations=arguments.generations,
        days=arguments.days,
        seed=arguments.seed,
        password=arguments.password,
        email_domain=arguments.email_domain,
        buckets={m.value: settings.bucket_for(m) for m in Modality},
    )
    if not arguments.no_vacuum:
        summary["vacuum_analyze_seconds"] = vacuum_analyze(engine)
    if arguments.with_media:
        started = time.perf_counter()
        summary["media_written"] = write_media(engine, settings, arguments.with_media)
        summary["media_seconds"] = round(time.perf_counter() - started, 2)
    engine.dispose()
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
