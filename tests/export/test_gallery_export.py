"""The Gallery's Export dialog (AppTest): what it offers and the link it gives, whose ticket
names the signed-in user and what they chose."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

from streamlit.testing.v1 import AppTest

from core.export import ExportSelection, ExportTicket
from core.generation.image import ImageOrder
from core.modality import Modality
from core.services import Services
from tests.export.conftest import PASSWORD
from tests.ui.conftest import APP, log_in
from ui.routes import EXPORT_PATH


def _image(services: Services, owner_id: uuid.UUID, prompt: str) -> None:
    order = ImageOrder(
        prompt=prompt, width=64, height=64, seed=1, model="sketch-v2", style=None,
        provider="sketch",
    )  # fmt: skip
    services.images.generate(owner_id, order)


def _export_link(at: AppTest, services: Services) -> ExportTicket:
    next(b for b in at.button if b.label == "Export").click()
    at.run()
    (link,) = at.link_button
    assert link.proto.label == "Download ZIP" and not link.proto.disabled
    url = urlsplit(link.proto.url)
    assert url.path == EXPORT_PATH
    return services.exports.redeem(parse_qs(url.query)["ticket"][0])


def test_the_gallery_links_to_an_export_of_everything_or_of_the_selected(
    app_services: Services,
) -> None:
    ada = app_services.auth.register("ada@example.com", PASSWORD, ip=None)
    _image(app_services, ada.id, "a fox in snow")
    _image(app_services, ada.id, "a kite over hills")
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    log_in(at, "ada@example.com", PASSWORD).switch_page("../pages/gallery.py").run()

    # A checkbox per card, named by its item like the card's Open button.
    assert [c.label for c in at.checkbox] == [
        "Select “a kite over hills”",
        "Select “a fox in snow”",
    ]
    everything = _export_link(at, app_services)
    assert at.radio[0].options == ["Everything", "A date range"]
    assert any("**2** generations" in str(m.value) for m in at.markdown)

    kite = at.checkbox[0]
    kite.check()
    at.run()
    chosen = _export_link(at, app_services)

    assert everything == ExportTicket(ada.id, ExportSelection())
    assert at.radio[0].value == "The 1 selected"
    (kite_entry,) = [
        e for e in app_services.gallery.page(ada.id).entries if e.prompt == "a kite over hills"
    ]
    assert chosen == ExportTicket(ada.id, ExportSelection(ids=(kite_entry.id,)))

    # What Show leaves out stays out of "everything".
    at.checkbox[0].uncheck()
    at.pills[0].set_value([Modality.IMAGE])
    at.run()
    images_only = _export_link(at, app_services)
    assert images_only == ExportTicket(ada.id, ExportSelection(modalities=(Modality.IMAGE,)))
    assert any("Only 🎨 Images" in str(c.value) for c in at.caption)
