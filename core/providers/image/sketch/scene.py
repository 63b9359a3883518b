"""Draws a composition, back to front: sky, far land, water, near land, subject, weather.

With water in the picture every land layer becomes its far shore (drawn before the water, so the
water mirrors it); without, the land runs from the horizon to the bottom edge.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.providers.image.sketch.abstract import PATTERNS
from core.providers.image.sketch.canvas import Canvas
from core.providers.image.sketch.composition import Composition
from core.providers.image.sketch.land import (
    draw_city,
    draw_forest,
    draw_ground,
    draw_hills,
    draw_mountains,
    draw_street,
    draw_tree_line,
    draw_water,
)
from core.providers.image.sketch.portrait import draw_figure, paint_backdrop
from core.providers.image.sketch.sky import draw_haze, draw_sky, draw_weather
from core.providers.image.sketch.subjects import (
    draw_boat,
    draw_cabin,
    draw_flowers,
    draw_lighthouse,
)

# Share of windows and lamps lit, by the time of day.
LIT = {"day": 0.0, "sunset": 0.25, "night": 0.4, "space": 0.4}


def draw_scene(canvas: Canvas, composition: Composition, words: Sequence[str]) -> None:
    if composition.abstract:
        PATTERNS[composition.abstract](canvas)
        return
    if composition.has_scene:
        _landscape(canvas, composition)
    else:
        paint_backdrop(canvas)
    if composition.is_portrait and composition.subject:
        draw_figure(canvas, composition.subject, words)
    draw_weather(canvas, composition.weather)


def _horizon(canvas: Canvas, composition: Composition) -> float:
    layers = composition.layers
    if "water" in layers:
        low, high = 0.52, 0.6
    elif "street" in layers:
        low, high = 0.5, 0.56
    elif "city" in layers:
        low, high = 0.72, 0.8
    elif layers == ("mountains",):
        low, high = 0.64, 0.72
    else:
        low, high = 0.56, 0.64
    return canvas.height * canvas.uniform(low, high)


def _landscape(canvas: Canvas, composition: Composition) -> None:
    layers, subject = composition.layers, composition.subject
    snowy = composition.weather == "snow"
    # Rain and fog light the lamps early.
    lit = LIT[composition.sky] or (0.2 if composition.weather in ("rain", "fog") else 0.0)
    horizon = _horizon(canvas, composition)
    draw_sky(canvas, composition.sky, composition.weather, horizon)
    if "mountains" in layers:
        draw_mountains(canvas, horizon, snowy)
    if composition.weather == "fog":
        draw_haze(canvas, horizon)
    if "water" in layers:
        if "city" in layers:
            draw_city(canvas, horizon, lit, far=True)
        if "forest" in layers or subject == "cabin":
            draw_tree_line(canvas, horizon, snowy)
        draw_water(canvas, horizon)
    else:
        draw_ground(canvas, horizon, snowy)
        if "hills" in layers:
            draw_hills(canvas, horizon, snowy)
        if "city" in layers:
            draw_city(canvas, horizon, lit, far="street" in layers)
        if "street" in layers:
            draw_street(canvas, horizon, lit, wet=composition.weather == "rain")
        if "forest" in layers:
            draw_forest(canvas, horizon, snowy)
    if subject == "lighthouse":
        draw_lighthouse(canvas, horizon, lit=lit > 0)
    elif subject == "cabin" and "water" not in layers:
        draw_cabin(canvas, horizon, lit=lit > 0, snowy=snowy)
    elif subject == "boat" and "water" in layers:
        draw_boat(canvas, horizon)
    elif subject == "flowers":
        draw_flowers(canvas)
