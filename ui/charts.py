"""Altair charts for the analytics page, and the tables behind them.

Each `*_table` turns a report's aggregate rows into the small DataFrame a chart draws and a CSV
download exports; each chart builder takes that DataFrame.

Days are categories on the x axis, one band and one label each, not instants on a time axis: a
time axis over a single day ticks every few hours, labels every tick with that same day, and
stretches the day's one bar across the whole chart.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import date

import altair as alt
import pandas as pd

from core.analytics import Report

MODALITY_COLORS = alt.Scale(
    domain=["image", "speech", "chat"], range=["#4c78a8", "#f58518", "#54a24b"]
)
# Fewer days than this are drawn as narrow bars in the middle, as wide as in a week of them.
MIN_DAY_BANDS = 7
# Steps of the error-rate axis, smallest first: the first that reaches past the highest day in
# at most MAX_RATE_INTERVALS steps is used.
RATE_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2)
MAX_RATE_INTERVALS = 5
# Each half of the side-by-side media chart: the page stretches single charts, not these, and a
# band axis would otherwise be 20 px a day.
MEDIA_WIDTH = 300


def daily_table(report: Report) -> pd.DataFrame:
    columns = [
        "day", "modality", "generations", "failures", "completed", "audio_seconds",
        "tokens_in", "tokens_out", "cost_usd",
    ]  # fmt: skip
    table = pd.DataFrame([asdict(row) for row in report.daily], columns=columns)
    # ISO days sort as they read, and name the same UTC day in every browser's time zone.
    table["day"] = table["day"].map(date.isoformat)
    table["audio_minutes"] = (table["audio_seconds"] / 60).round(2)
    table["cost_usd"] = table["cost_usd"].astype(float)
    return table


def error_rate_table(daily: pd.DataFrame) -> pd.DataFrame:
    """Generations, failures and their ratio per day, every modality together."""
    table = daily.groupby("day", as_index=False)[["generations", "failures"]].sum()
    table["error_rate"] = table["failures"] / table["generations"]
    return table


def models_table(report: Report) -> pd.DataFrame:
    columns = ["provider", "model", "generations", "failures", "cost_usd"]
    table = pd.DataFrame([asdict(row) for row in report.models], columns=columns)
    table["cost_usd"] = table["cost_usd"].astype(float)
    return table


def latency_table(report: Report) -> pd.DataFrame:
    columns = ["provider", "completed", "p50_ms", "p95_ms"]
    return pd.DataFrame([asdict(row) for row in report.latency], columns=columns)


def errors_table(report: Report) -> pd.DataFrame:
    return pd.DataFrame([asdict(row) for row in report.errors], columns=["reason", "count"])


def csv_bytes(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False).encode()


def day_domain(daily: pd.DataFrame) -> list[str]:
    """Every day from the table's first to its last, so a day without generations is a gap."""
    if daily.empty:
        return []
    days = pd.date_range(daily["day"].min(), daily["day"].max(), freq="D")
    return [day.date().isoformat() for day in days]


def rate_ticks(highest: float) -> list[float]:
    """The error-rate axis: 0 % up to the first round step above the highest day, 100 % at most."""
    step = next(
        (s for s in RATE_STEPS if math.floor(highest / s) + 1 <= MAX_RATE_INTERVALS),
        RATE_STEPS[-1],
    )
    intervals = min(math.floor(highest / step) + 1, round(1 / step))
    return [round(step * n, 6) for n in range(intervals + 1)]


def _day_axis(daily: pd.DataFrame) -> alt.X:
    """The x axis of every per-day chart: the days of the whole table, whatever a chart draws."""
    return alt.X(
        "day:O",
        title="Day (UTC)",
        scale=alt.Scale(domain=day_domain(daily)),
        axis=alt.Axis(labelAngle=-45, labelOverlap=True),
    )


def _day_bar_width(daily: pd.DataFrame) -> alt.RelativeBandSize:
    """The bar's share of its day's band. Fewer days than MIN_DAY_BANDS make wider bands, so
    the bar takes that much less of its band and stays as wide as in a week of them."""
    return alt.RelativeBandSize(min(1.0, len(day_domain(daily)) / MIN_DAY_BANDS))


def _day_tooltip() -> alt.Tooltip:
    return alt.Tooltip("day:O", title="Day (UTC)")


def generations_per_day(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(daily)
        .mark_bar(width=_day_bar_width(daily))
        .encode(
            _day_axis(daily),
            alt.Y("sum(generations):Q", title="Generations"),
            alt.Color("modality:N", scale=MODALITY_COLORS, title="Modality"),
            tooltip=[_day_tooltip(), "modality:N", "generations:Q", "failures:Q"],
        )
    )


def error_rate_per_day(rates: pd.DataFrame) -> alt.Chart:
    """The `error_rate_table` as a line."""
    ticks = rate_ticks(float(rates["error_rate"].max()) if not rates.empty else 0.0)
    return (
        alt.Chart(rates)
        .mark_line(point=alt.OverlayMarkDef(color="#e45756"), color="#e45756")
        .encode(
            _day_axis(rates),
            alt.Y(
                "error_rate:Q",
                title="Error rate",
                # Fixed ends and ticks: the top is labelled, and above every point.
                scale=alt.Scale(domain=[0, ticks[-1]], nice=False),
                axis=alt.Axis(format="%", values=ticks),
            ),
            tooltip=[
                _day_tooltip(),
                alt.Tooltip("error_rate:Q", format=".1%", title="Error rate"),
                alt.Tooltip("failures:Q", title="Failures"),
            ],
        )
    )


def by_model(models: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(models)
        .transform_calculate(label="datum.provider + ' · ' + datum.model")
        .mark_bar()
        .encode(
            alt.X("generations:Q", title="Generations"),
            alt.Y("label:N", sort="-x", title=None),
            alt.Color("provider:N", title="Provider"),
            tooltip=["provider:N", "model:N", "generations:Q", "failures:Q", "cost_usd:Q"],
        )
    )


def cost_by_model(models: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(models)
        .transform_calculate(label="datum.provider + ' · ' + datum.model")
        .mark_bar()
        .encode(
            alt.X("cost_usd:Q", title="Cost (USD)"),
            alt.Y("label:N", sort="-x", title=None),
            alt.Color("provider:N", title="Provider"),
            tooltip=["provider:N", "model:N", alt.Tooltip("cost_usd:Q", format="$.4f")],
        )
    )


def latency_percentiles(latency: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(latency)
        .transform_fold(["p50_ms", "p95_ms"], as_=["percentile", "ms"])
        .mark_bar()
        .encode(
            alt.X("provider:N", title="Provider"),
            alt.XOffset("percentile:N"),
            alt.Y("ms:Q", title="Latency (ms)"),
            alt.Color("percentile:N", title="Percentile"),
            tooltip=["provider:N", "percentile:N", "ms:Q", "completed:Q"],
        )
    )


def top_errors(errors: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(errors)
        .mark_bar(color="#e45756")
        .encode(
            alt.X("count:Q", title="Failures"),
            alt.Y("reason:N", sort="-x", title=None, axis=alt.Axis(labelLimit=400)),
            tooltip=["reason:N", "count:Q"],
        )
    )


def media_per_day(daily: pd.DataFrame) -> alt.HConcatChart:
    """Images made and minutes of audio spoken per day (completed only), side by side."""
    images = (
        alt.Chart(daily[daily["modality"] == "image"])
        .mark_bar(color="#4c78a8", width=_day_bar_width(daily))
        .encode(
            _day_axis(daily),
            alt.Y("completed:Q", title="Images made"),
            tooltip=[_day_tooltip(), alt.Tooltip("completed:Q", title="Images made")],
        )
        .properties(title="Images made", width=MEDIA_WIDTH)
    )
    audio = (
        alt.Chart(daily[daily["modality"] == "speech"])
        .mark_bar(color="#f58518", width=_day_bar_width(daily))
        .encode(
            _day_axis(daily),
            alt.Y("audio_minutes:Q", title="Audio minutes"),
            tooltip=[_day_tooltip(), "audio_minutes:Q"],
        )
        .properties(title="Audio minutes", width=MEDIA_WIDTH)
    )
    return alt.hconcat(images, audio)


def tokens_per_day(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(daily[daily["modality"] == "chat"])
        .transform_fold(["tokens_in", "tokens_out"], as_=["direction", "tokens"])
        .mark_bar(width=_day_bar_width(daily))
        .encode(
            _day_axis(daily),
            alt.Y("sum(tokens):Q", title="Tokens"),
            alt.Color("direction:N", title=None),
            tooltip=[_day_tooltip(), "direction:N", "sum(tokens):Q"],
        )
    )


def cost_per_day(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(daily)
        .mark_bar(width=_day_bar_width(daily))
        .encode(
            _day_axis(daily),
            alt.Y("sum(cost_usd):Q", title="Cost (USD)"),
            alt.Color("modality:N", scale=MODALITY_COLORS, title="Modality"),
            tooltip=[_day_tooltip(), "modality:N", alt.Tooltip("cost_usd:Q", format="$.4f")],
        )
    )
