"""Image Studio: describe an image, pick its size, seed, model and style, and keep the result."""

import uuid
from typing import Any

import streamlit as st

from core.errors import NotFound
from core.generation.image import MAX_SEED, ImageOrder
from core.generation.status import Status
from core.jobs.generation_jobs import MAX_BATCH
from core.jobs.model import Job, JobKind
from core.providers.image.checks import MAX_PROMPT_CHARS
from core.providers.image.sizes import ALLOWED_SIZES, parse_size
from core.providers.image.styles import STYLES
from core.runtime import services
from ui.feedback import user_errors
from ui.jobs import job_card, job_cards, live_jobs
from ui.session import current_account

account = current_account()
app = services()
studio = app.images
PRESETS = [f"{w}x{h}" for w, h in ALLOWED_SIZES]
CUSTOM = "Custom…"
REFERENCES = {None: "None", "upload": "Upload an image", "avatar": "My avatar"}
# "Use as reference" in the Gallery: one of the user's own images.
FROM_GALLERY = "gallery"
# The seed grid: this many seed variations, side by side.
GRID = 4


def _apply_prefill() -> None:
    """ "Use these settings" from the gallery: fill the form with a past generation's input."""
    params = st.session_state.pop("image_prefill", None)
    if not params:
        return
    if params.get("provider") in studio.providers:
        st.session_state["image_provider"] = params["provider"]
    st.session_state["image_prompt"] = params.get("prompt", "")
    size = params.get("size", "512x512")
    st.session_state["image_size"] = size if size in PRESETS else CUSTOM
    st.session_state["image_width"], st.session_state["image_height"] = parse_size(size)
    st.session_state["image_seed"] = str(params.get("seed", ""))
    st.session_state["image_model"] = params.get("model")
    st.session_state["image_style"] = params.get("style")
    st.info(f"Settings loaded (seed {params.get('seed')}). Generate to make it again.", icon="♻️")


def _not_ai_caption() -> str:
    """What the sketch is, and the two ways to real AI images on this server."""
    online = (
        "pick **Pollinations** in Engine above (online: the server needs internet access)"
        if "pollinations" in studio.providers
        else "turn on **Pollinations** (online; `IMAGE_POLLINATIONS_ENABLED=true`)"
    )
    return (
        "**The offline sketch is not AI**: it draws shapes from your prompt's words and the "
        f"seed, without network. For AI images, {online}, or point `IMAGE_DIFFUSERS_MODEL_PATH` "
        "at a local diffusers model folder (`pip install -r requirements-diffusers.txt`; a GPU "
        "is recommended)."
    )


def _grid_jobs() -> list[Job]:
    """The seed grid's jobs, as the queue has them now (one deleted meanwhile is left out)."""
    jobs = []
    for job_id in st.session_state.get("image_grid") or []:
        try:
            jobs.append(app.queue.get(account.id, uuid.UUID(job_id)))
        except NotFound:
            continue
    return jobs


def _settings_of(job: Job) -> dict[str, Any]:
    """A grid job's settings in the shape the gallery's "Use these settings" hands over."""
    request = job.request
    return {
        "provider": request["provider"],
        "prompt": request["prompt"],
        "size": f"{request['width']}x{request['height']}",
        "seed": request["seed"],
        "model": request["model"],
        "style": request["style"],
    }


def _draw_grid(jobs: list[Job]) -> None:
    st.subheader("Seed grid")
    st.caption(
        "One prompt, four seeds; all four are kept in your gallery. **Use seed** puts that "
        "image's settings back in the form, to make it again larger or in another style."
    )
    for column, job in zip(st.columns(GRID), jobs, strict=False):
        with column:
            seed = job.request["seed"]
            st.markdown(f"**Seed {seed}**")
            job_card(account, job, show_result=True)
            if job.state is Status.COMPLETED and st.button(
                f"Use seed {seed}", key=f"use-seed-{job.id}", icon="♻️"
            ):
                st.session_state["image_prefill"] = _settings_of(job)
                st.rerun()
    if st.button("Close the grid", key="close_grid"):
        st.session_state["image_grid"] = None
        st.rerun()


st.title("🎨 Image Studio")
_apply_prefill()

with user_errors():
    provider_names = list(studio.providers)
    st.session_state.setdefault("image_provider", studio.default_provider)
    provider = studio.provider(
        st.selectbox(
            "Engine",
            provider_names,
            key="image_provider",
            format_func=lambda name: studio.providers[name].label,
        )
    )
    if not provider.is_ai:
        st.caption(_not_ai_caption())
    models = provider.models()
    if st.session_state.get("image_model") not in models:
        st.session_state["image_model"] = models[0]

    # No max_chars: the browser would drop a paste that crosses it without a word. A prompt
    # too long stays in the field, is counted here and refused on Generate by core's check.
    prompt = st.text_area(
        "Prompt", key="image_prompt", placeholder="A lighthouse on a cliff at dusk, waves below"
    )
    st.caption(f"{len(prompt):,} of {MAX_PROMPT_CHARS:,} characters")
    first, second, third = st.columns(3)
    model = first.selectbox("Model", models, key="image_model")
    style = second.selectbox(
        "Style",
        [None, *STYLES],
        key="image_style",
        format_func=lambda name: "None" if name is None else STYLES[name].label,
    )
    # Defaults go through session state (never a widget's own default too), so refilling the
    # form from the gallery does not trip Streamlit's "set twice" warning.
    for key, default in (("image_size", "512x512"), ("image_width", 512), ("image_height", 512)):
        st.session_state.setdefault(key, default)
    size = third.selectbox("Size", [*PRESETS, CUSTOM], key="image_size")
    if size == CUSTOM:
        limits = provider.size_limits
        left, right = st.columns(2)
        # No min_value/max_value: with them the browser refuses a side out of range and keeps
        # the last one that fitted, so Generate silently made that size. What was typed goes
        # to core's size check, which names it (an emptied field reads 0).
        width = left.number_input("Width", step=limits.multiple, key="image_width")
        height = right.number_input("Height", step=limits.multiple, key="image_height")
        st.caption(f"{provider.label} accepts {limits.describe()}.")
    else:
        width, height = parse_size(size)
    seed_text = st.text_input(
        "Seed",
        key="image_seed",
        placeholder="blank = random",
        help=f"A whole number from 0 to {MAX_SEED}. Same seed and settings, same image.",
    )
    picked = st.session_state.get("image_reference")
    choices = {**REFERENCES, **({FROM_GALLERY: "From my gallery"} if picked else {})}
    reference = st.radio(
        "Reference image",
        list(choices),
        format_func=choices.__getitem__,
        horizontal=True,
        key="image_reference_choice",
    )
    upload = (
        st.file_uploader("Reference", type=["png", "jpg", "jpeg", "webp"])
        if reference == "upload"
        else None
    )
    gallery_reference = None
    if reference == FROM_GALLERY and picked:
        with user_errors():
            gallery_reference = app.gallery.media(account.id, picked["id"], picked["key"])
            st.image(gallery_reference, width=160, caption="Reference from your gallery")

# Filled only while open: loading the avatar on every run of the page is wasted work.
avatar_box = st.expander(
    "My avatar (a reference you upload once)", key="avatar_box", on_change="rerun"
)
if avatar_box.open:
    with avatar_box, user_errors():
        avatar = app.avatars.load(account.id)
        if avatar:
            st.image(avatar, width=160)
        new_avatar = st.file_uploader(
            "Upload a new avatar", type=["png", "jpg", "jpeg", "webp"], key="avatar_upload"
        )
        if new_avatar is not None and st.button("Save as my avatar"):
            app.avatars.save(account.id, new_avatar.getvalue())
            # A toast outlives the rerun (which shows the new avatar); st.success did not.
            st.toast("Avatar saved.", icon="✅")
            st.rerun()

count_column, vary_column = st.columns(2)
count = count_column.number_input(
    "Images", 1, MAX_BATCH, value=1, key="image_count", help="Each image is its own job."
)
vary = vary_column.checkbox(
    "Seed variations",
    key="image_vary",
    disabled=count == 1,
    help="Seeds seed, seed + 1, … instead of one random seed each.",
)

generate_column, grid_column = st.columns(2)
generate = generate_column.button("Generate", type="primary", icon="✨")
grid = grid_column.button(
    f"Seed grid ({GRID} seeds)",
    icon="🎲",
    help=f"{GRID} images side by side, seeds seed, seed + 1, … (a random first seed if blank), "
    "to choose from. Each is its own job.",
)
if generate or grid:
    with user_errors():
        seed_text = seed_text.strip()
        # isdigit() alone lets "²" through, which int() then refuses.
        whole = seed_text.removeprefix("-")
        if seed_text and not (whole.isascii() and whole.isdigit()):
            st.error("The seed must be a whole number, or blank for a random one.", icon="⚠️")
            st.stop()
        queued = app.jobs.submit_images(
            account.id,
            ImageOrder(
                prompt=prompt,
                width=int(width),
                height=int(height),
                seed=int(seed_text) if seed_text else None,
                model=model,
                style=style,
                provider=provider.name,
                reference="upload" if gallery_reference else reference,
                upload=gallery_reference or (upload.getvalue() if upload else None),
            ),
            count=GRID if grid else int(count),
            vary_seed=grid or (vary and count > 1),
        )
        st.session_state["image_grid"] = [str(job.id) for job in queued] if grid else None
        st.toast(f"Queued {len(queued)} image{'s' * (len(queued) != 1)}.", icon="⏳")

# The grid, while open, takes the place of the latest jobs (they are the same four).
if st.session_state.get("image_grid"):
    live_jobs(_grid_jobs, _draw_grid)
else:
    job_cards(account, JobKind.IMAGE)
