"""The core entry points a form or the API calls, driven with arbitrary input: what each takes
(hypothesis strategies) and how one case of it is run against a world of services.

A case keeps the promise when every failure is an `AtelierError` with a message (never another
exception, nor a crash the pipeline reported as "failed unexpectedly"), what succeeded can be
used (an account that registered can log in; a search finds only what it asked for), and the
stores agree afterwards. The fuzz suite runs the cases under hypothesis; bench/hardening.py
counts them.
"""

from __future__ import annotations

import io
import math
import operator
import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from hypothesis import strategies as st
from PIL import Image

from core.auth.account import Role
from core.auth.service import SignedIn
from core.config import Settings
from core.errors import AtelierError
from core.gallery import GalleryItem, GalleryPage
from core.generation.image import MAX_SEED, ImageOrder
from core.generation.records import UNEXPECTED_FAILURE, Source
from core.generation.speech import SpeechOrder
from core.modality import Modality
from core.providers.image.sketch.engine import MODEL as SKETCH_MODEL
from core.providers.image.styles import STYLES
from core.providers.speech.kokoro_engine import DEFAULT_VOICES as KOKORO_DEFAULT_VOICES
from core.providers.speech.languages import offline_languages
from core.services import Services, start_services
from storage.db import transaction
from storage.models import User
from tests.support.clock import FakeClock
from tests.support.consistency import disagreements
from tests.support.fake_openai import FakeOpenAI, Reply, answer_events

PASSWORD = "correct horse 42"
T = TypeVar("T")
C = TypeVar("C")
CaseResult = Literal["accepted", "refused"]


class BrokenPromise(AssertionError):
    """A case that did not keep the promise (the module docstring's)."""


class HiddenCrash(BrokenPromise):
    """An exception other than an `AtelierError` that the pipeline caught and reported as
    "failed unexpectedly": the traceback is in the captured log ("provider crashed")."""


class StoresDisagree(BrokenPromise):
    pass


# --- What a client can send -------------------------------------------------------------

TROUBLEMAKERS = [
    "", " ", "\t\n", "\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83e", "²", "..",
    "../../etc/passwd", "/etc/passwd", "%00", "\\u0000", "\u202eevil", "\ufeff", "\r\n",
    "\u200b", "🦊" * 3, "' OR 1=1 --", "<script>alert(1)</script>", "{{7*7}}", "NaN",
    "Infinity", "-1",
]  # fmt: skip
WORDS = ["fox", "hola mundo", "Straße", "日本の山", "сад", "مرحبا", "ok", "42 cats"]


def any_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text at all: every code point (NUL and lone surrogates included), the usual
    troublemakers, and very long strings (built by repetition: drawing them is slow)."""
    return st.one_of(
        st.text(st.characters(exclude_categories=()), max_size=max_size),
        st.sampled_from(TROUBLEMAKERS),
        st.builds(operator.mul, st.sampled_from(["a", "é", "\x00", "🦊 "]), st.integers(1, 20_000)),
    )


def usable_text(max_extra: int = 20) -> st.SearchStrategy[str]:
    """Text a provider can work with, so that cases also get through to the stores."""
    printable = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn"))
    return st.builds("{} {}".format, st.sampled_from(WORDS), st.text(printable, max_size=max_extra))


def text_input() -> st.SearchStrategy[str]:
    return st.one_of(usable_text(), any_text())


def odd_floats() -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(),
        st.sampled_from([math.inf, -math.inf, math.nan, -0.0, 1e308, 5e-324, 0.0, 0.7, 2.0]),
    )


def odd_ints() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(), st.sampled_from([-1, 0, 2**31 - 1, 2**31, 2**63, -(2**63), 10**100])
    )


def names(known: list[str]) -> st.SearchStrategy[str]:
    """A provider or model name: a real one, or anything."""
    return st.one_of(st.sampled_from(known), any_text(20))


def _tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class AuthCase:
    email: str
    password: str
    ip: str | None
    user_agent: str | None
    # Tried after the real password: a wrong or mangled one must simply not log in.
    other_password: str


@dataclass(frozen=True)
class ChatCase:
    provider: str | None
    model: str | None
    temperature: float
    system_prompt: str
    max_tokens: int | None
    # One conversation: a first message and the later ones (issue 12 met NUL in a later one).
    messages: list[str]
    # What the chat API streams back, piece by piece: a model may answer anything too.
    answer: list[str]


@dataclass(frozen=True)
class GalleryCase:
    modalities: list[Modality] | None
    text: str
    limit: int
    # An int picks one of the owner's entries to continue after; text is any cursor at all.
    cursor: int | str | None
    # An int picks a known generation (the owner's first, then someone else's); else any id.
    opened: int | uuid.UUID
    # The file asked for, as the pages and the API ask: a key from the entry, or none ("").
    file: Literal["media", "thumbnail", "none"]


def cases(
    kind: Callable[..., T],
    valid: dict[str, st.SearchStrategy[Any]],
    odd: dict[str, st.SearchStrategy[Any]],
) -> st.SearchStrategy[T]:
    """A third each: valid cases (they get through to the provider and the stores), valid
    ones but for one odd field, and cases odd in every field (`odd` may draw valid values)."""

    def one_odd(name: str) -> st.SearchStrategy[T]:
        return st.builds(kind, **(valid | {name: odd[name]}))

    return st.one_of(
        st.builds(kind, **valid),
        st.sampled_from(sorted(odd)).flatmap(one_odd),
        st.builds(kind, **(valid | odd)),
    )


good_passwords = st.builds("correct horse {}".format, st.integers(0, 10**6))
auth_cases = cases(
    AuthCase,
    valid={
        "email": st.emails().map(str.lower),
        "password": good_passwords,
        "ip": st.one_of(st.none(), st.ip_addresses().map(str)),
        "user_agent": st.one_of(st.none(), st.just("Mozilla/5.0")),
        "other_password": good_passwords,
    },
    odd={
        "email": st.one_of(
            st.builds(
                "{}@{}".format,
                any_text(30),
                st.sampled_from(["example.com", "x", "", "ex\x00.com"]),
            ),
            # Issue 12: 242-254 characters registered but could not log in on PostgreSQL.
            st.builds("{}@example.com".format, st.integers(200, 260).map("a".__mul__)),
            any_text(),
        ),
        "password": any_text(),
        "ip": any_text(20),
        "user_agent": any_text(),
        "other_password": any_text(),
    },
)
small_sizes = st.sampled_from([64, 72, 96, 128])
image_orders = cases(
    ImageOrder,
    valid={
        "prompt": usable_text(),
        "width": small_sizes,
        "height": small_sizes,
        "seed": st.one_of(st.none(), st.integers(0, MAX_SEED)),
        "model": st.just(SKETCH_MODEL),
        "style": st.one_of(st.none(), st.sampled_from(list(STYLES))),
        "provider": st.just("sketch"),
        "reference": st.none(),
        "upload": st.none(),
        "source": st.sampled_from(Source),
    },
    odd={
        "prompt": any_text(),
        "width": odd_ints(),
        "height": odd_ints(),
        "seed": odd_ints(),
        "model": names([SKETCH_MODEL]),
        "style": names(list(STYLES)),
        "provider": names(["sketch", "pollinations", "diffusers"]),
        "reference": st.sampled_from(["upload", "avatar"]),
        "upload": st.one_of(st.binary(max_size=64), st.just(_tiny_png())),
    },
)
# English (piper), Japanese and Kokoro's other languages load a voice model of their own and
# read slowly; every other language is espeak-ng, a few milliseconds. Cases stay with those.
SLOW_LANGUAGES = {"en", "ja", *KOKORO_DEFAULT_VOICES}
QUICK_LANGUAGES = sorted(set(offline_languages()) - SLOW_LANGUAGES)
speech_orders = cases(
    SpeechOrder,
    valid={
        # A voice spells out a script it cannot read, sign by sign: short texts stay quick.
        "text": usable_text(max_extra=6),
        "language": st.sampled_from(QUICK_LANGUAGES),
        "slow": st.booleans(),
        "provider": st.just("offline"),
        "source": st.sampled_from(Source),
    },
    odd={
        "text": any_text(),
        "language": any_text(12).filter(lambda code: code not in SLOW_LANGUAGES),
        "provider": names(["offline", "gtts"]),
    },
)
chat_cases = cases(
    ChatCase,
    valid={
        "provider": st.sampled_from([None, "openai"]),
        "model": st.sampled_from([None, "gpt-4o-mini"]),
        "temperature": st.floats(0, 2),
        "system_prompt": st.one_of(st.just(""), usable_text()),
        "max_tokens": st.one_of(st.none(), st.integers(1, 4096)),
        "messages": st.lists(usable_text(), min_size=1, max_size=2),
        "answer": st.lists(usable_text(), min_size=1, max_size=3),
    },
    odd={
        # The offline model ("local") takes seconds an answer: cases ask the local fake API.
        "provider": names(["openai"]).filter(lambda name: name != "local"),
        "model": names(["gpt-4o-mini"]),
        "temperature": odd_floats(),
        "system_prompt": any_text(),
        "max_tokens": odd_ints(),
        "messages": st.lists(text_input(), min_size=1, max_size=2),
        "answer": st.lists(text_input(), max_size=4),
    },
)
gallery_cases = cases(
    GalleryCase,
    valid={
        "modalities": st.one_of(st.none(), st.lists(st.sampled_from(Modality), unique=True)),
        "text": st.sampled_from(["", "fox", "FOX", "hola", "日本", "ß", "ss", "ne"]),
        "limit": st.integers(1, 50),
        "cursor": st.one_of(st.none(), st.integers(0, 20)),
        "opened": st.integers(0, 20),
        "file": st.sampled_from(["media", "thumbnail", "none"]),
    },
    odd={"text": any_text(), "cursor": any_text(), "opened": st.uuids()},
)


# --- The world the cases run in -----------------------------------------------------------


@dataclass
class World:
    services: Services
    chat_api: FakeOpenAI
    # Someone with a little of everything in their gallery, and what someone else made.
    gallery_owner: uuid.UUID
    owner_ids: list[uuid.UUID]
    others_ids: list[uuid.UUID]


def new_user(services: Services) -> uuid.UUID:
    """A user of the case's own, so that checking the stores reads one short history. Written
    straight into the table: registering (a password hash, a rate-limit count) would cost a
    generation case a third of its time, and registration has its own cases."""
    user = User(email=f"{uuid.uuid4().hex[:12]}@example.com", password_hash="-", role=Role.USER)
    with transaction(services.db) as db:
        db.add(user)
    return user.id


def answer_with(chat_api: FakeOpenAI, pieces: list[str]) -> None:
    """The chat API's next answer (one a case did not ask for is dropped)."""
    chat_api.replies.clear()
    chat_api.enqueue(Reply(events=answer_events(pieces), delay=0))


def suite_settings(data_dir: Path, **overrides: Any) -> Settings:
    """What the hardening suites run on: the embedded backend unless `overrides` name other
    stores, nothing that would refuse later work (rate limits, quotas), and no provider that
    leaves the machine."""
    unlimited = 10**9
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": "",
        "s3_endpoint_url": "",
        "redis_url": "",
        "celery_broker_url": "",
        "app_env": "test",
        "bcrypt_rounds": 4,
        "jwt_algorithm": "HS256",
        "jwt_secret": "test-secret-" + "x" * 32,
        "login_limit_per_minute": unlimited,
        "login_ip_limit_per_minute": unlimited,
        "register_limit_per_minute": unlimited,
        "limit_generations_per_minute_user": 0,
        "image_pollinations_enabled": False,
        "speech_gtts_enabled": False,
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


@contextmanager
def open_world(data_dir: Path) -> Iterator[World]:
    with ExitStack() as stack:
        chat_api = FakeOpenAI().start()
        stack.callback(chat_api.stop)
        settings = suite_settings(
            data_dir,
            # Short texts only: a longer one is refused rather than read for seconds.
            speech_max_characters=24,
            **chat_api.app_settings,
        )
        services = start_services(settings, now=FakeClock())
        stack.callback(services.close)
        owner, someone_else = new_user(services), new_user(services)
        yield World(
            services,
            chat_api,
            gallery_owner=owner,
            owner_ids=_fill_gallery(services, chat_api, owner),
            others_ids=_fill_gallery(services, chat_api, someone_else)[:2],
        )


def _fill_gallery(services: Services, chat_api: FakeOpenAI, user_id: uuid.UUID) -> list[uuid.UUID]:
    made = [
        services.images.generate(
            user_id, ImageOrder(prompt, 64, 64, seed, SKETCH_MODEL, None, "sketch")
        ).id
        for seed, prompt in enumerate(["a red fox", "Straße im Regen 🦊", "日本の山", "FOX den"])
    ]
    made += [
        services.speech.synthesize(user_id, SpeechOrder(text, language, False, "offline")).id
        for text, language in [("hola mundo", "es"), ("bonjour le renard", "fr")]
    ]
    answer_with(chat_api, ["A fox ", "is a canid."])
    _, answer = services.chat.answer(
        user_id,
        services.chat.new_conversation(provider="openai"),
        "What is a fox?",
        on_text=_ignore,
        cancel=threading.Event(),
    )
    return [*made, answer.record.id]


def _ignore(_text: str) -> None:
    pass


# --- One case of each entry point ---------------------------------------------------------


def attempt(call: Callable[[], T]) -> T | AtelierError:
    """The call's result, or the `AtelierError` it raised; anything else goes on up."""
    try:
        return call()
    except AtelierError as error:
        message = str(error).strip()
        if not message:
            raise BrokenPromise(f"{type(error).__name__} without a message") from error
        if message == UNEXPECTED_FAILURE:
            raise HiddenCrash(f"{type(error).__name__}: {message}") from error
        return error


def check_stores(world: World, users: Collection[uuid.UUID]) -> None:
    found = disagreements(world.services, users)
    if found:
        raise StoresDisagree("\n".join(f"{d.generation_id}: {d.problem}" for d in found))


def run_auth(world: World, case: AuthCase) -> CaseResult:
    auth = world.services.auth
    registered = attempt(lambda: auth.register(case.email, case.password, ip=case.ip))
    signed_in = attempt(
        lambda: auth.login(case.email, case.password, ip=case.ip, user_agent=case.user_agent)
    )
    if isinstance(registered, AtelierError):
        return "refused"
    if not isinstance(signed_in, SignedIn):
        raise BrokenPromise(f"registered, then could not log in: {signed_in}")
    wrong = attempt(lambda: auth.login(case.email, case.other_password, ip=case.ip))
    if isinstance(wrong, SignedIn) and case.other_password != case.password:
        raise BrokenPromise(f"logged in with {case.other_password!r}, not the password set")
    check_stores(world, [registered.id])
    return "accepted"


def run_image(world: World, order: ImageOrder) -> CaseResult:
    user = new_user(world.services)
    made = attempt(lambda: world.services.images.generate(user, order))
    check_stores(world, [user])
    return "refused" if isinstance(made, AtelierError) else "accepted"


def run_speech(world: World, order: SpeechOrder) -> CaseResult:
    user = new_user(world.services)
    made = attempt(lambda: world.services.speech.synthesize(user, order))
    check_stores(world, [user])
    return "refused" if isinstance(made, AtelierError) else "accepted"


def run_chat(world: World, case: ChatCase) -> CaseResult:
    chat = world.services.chat
    user = new_user(world.services)
    state = attempt(
        lambda: chat.new_conversation(
            provider=case.provider, model=case.model, temperature=case.temperature
        )
    )
    if isinstance(state, AtelierError):
        return "refused"
    state = replace(state, system_prompt=case.system_prompt, max_tokens=case.max_tokens)
    answered = 0
    for message in case.messages:
        answer_with(world.chat_api, case.answer)
        reply = attempt(
            partial(chat.answer, user, state, message, on_text=_ignore, cancel=threading.Event())
        )
        if not isinstance(reply, AtelierError):
            state, answered = reply[0], answered + 1
    if (conversation_id := state.id) is not None:
        # What the sidebar and "Continue" do next: both must cope with whatever was kept.
        attempt(lambda: chat.conversations(user))
        attempt(lambda: chat.open(user, conversation_id))
    check_stores(world, [user])
    return "accepted" if answered else "refused"


def run_gallery(world: World, case: GalleryCase) -> CaseResult:
    gallery = world.services.gallery
    owner = world.gallery_owner
    known = [*world.owner_ids, *world.others_ids]
    cursor = (
        str(world.owner_ids[case.cursor % len(world.owner_ids)])
        if isinstance(case.cursor, int)
        else case.cursor
    )
    page = attempt(
        lambda: gallery.page(
            owner, modalities=case.modalities, text=case.text, limit=case.limit, cursor=cursor
        )
    )
    if not isinstance(page, GalleryPage):
        raise BrokenPromise(f"a search failed: {page}")
    _check_page(page, case)
    opened = known[case.opened % len(known)] if isinstance(case.opened, int) else case.opened
    item = attempt(lambda: gallery.open(owner, opened))
    if not isinstance(item, AtelierError) and opened not in world.owner_ids:
        raise BrokenPromise("opened someone else's generation")
    entry = item.entry if isinstance(item, GalleryItem) else None
    key = {
        "media": entry.media_key if entry else "",
        "thumbnail": (entry.thumbnail_key or "") if entry else "",
        "none": "",
    }[case.file]
    attempt(lambda: gallery.media(owner, opened, key))
    check_stores(world, [owner])
    return "accepted"


def _check_page(page: GalleryPage, case: GalleryCase) -> None:
    needle = case.text.strip().casefold()
    wanted = set(case.modalities or Modality)
    for entry in page.entries:
        if needle not in entry.prompt.casefold() or entry.modality not in wanted:
            raise BrokenPromise(f"a search for {case.text!r} found {entry.prompt!r}")
    if len(page.entries) > case.limit:
        raise BrokenPromise(f"{len(page.entries)} entries on a page of {case.limit}")


@dataclass(frozen=True)
class EntryPoint(Generic[C]):
    cases: st.SearchStrategy[C]
    run: Callable[[World, C], CaseResult]


ENTRY_POINTS: dict[str, EntryPoint[Any]] = {
    "register and log in": EntryPoint(auth_cases, run_auth),
    "image": EntryPoint(image_orders, run_image),
    "speech": EntryPoint(speech_orders, run_speech),
    "chat": EntryPoint(chat_cases, run_chat),
    "gallery search": EntryPoint(gallery_cases, run_gallery),
}
