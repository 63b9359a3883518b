"""Altair charts for the analytics page, and the tables behind them.

Each `*_table` turns a report's aggregate rows into the small DataFrame a chart draws and a CSV
download exports; each chart builder takes that DataFrame.
"""

from __future__ import annotations

from dataclasses import asdict

import altair as alt
import pandas as pd

from core.analytics import Report

MODALITY_COLORS = alt.Scale(
    domain=["image", "speech", "chat"], range=["#4c78a8", "#f58518", "#54a24b"]
)


def daily_table(report: Report) -> pd.DataFrame:
    columns = [
        "day", "modality", "generations", "failures", "completed", "audio_seconds",
        "tokens_in", "tokens_out", "cost_usd",
    ]  # fmt: skip
    table = pd.DataFrame([asdict(row) for row in report.daily], columns=columns)
    table["day"] = pd.to_datetime(table["day"])
    table["audio_minutes"] = (table["audio_seconds"] / 60).round(2)
    table["cost_usd"] = table["cost_usd"].astype(float)
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


def _day_axis() -> alt.X:
    return alt.X("yearmonthdate(day):T", title="Day (UTC)")


def generations_per_day(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(daily)
        .mark_bar()
        .encode(
            _day_axis(),
            alt.Y("sum(generations):Q", title="Generations"),
            alt.Color("modality:N", scale=MODALITY_COLORS, title="Modality"),
            tooltip=["yearmonthdate(day):T", "modality:N", "generations:Q", "failures:Q"],
        )
    )


def error_rate_per_day(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(daily)
        .transform_aggregate(
            generations="sum(generations)", failures="sum(failures)", groupby=["day"]
        )
        .transform_calculate(error_rate="datum.failures / datum.generations")
        .mark_line(point=True, color="#e45756")
        .encode(
            _day_axis(),
            alt.Y("error_rate:Q", title="Error rate", axis=alt.Axis(format="%")),
            tooltip=[
                alt.Tooltip("day:T", title="Day"),
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
    """Images made and minutes of audio spoken per day, side by side."""
    images = (
        alt.Chart(daily[daily["modality"] == "image"])
        .mark_bar(color="#4c78a8")
        .encode(_day_axis(), alt.Y("completed:Q", title="Images"), tooltip=["day:T", "completed:Q"])
        .properties(title="Images made")
    )
    audio = (
        alt.Chart(daily[daily["modality"] == "speech"])
        .mark_bar(color="#f58518")
        .encode(
            _day_axis(),
            alt.Y("audio_minutes:Q", title="Audio minutes"),
            tooltip=["day:T", "audio_minutes:Q"],
        )
        .properties(title="Audio minutes")
    )
    return alt.hconcat(images, audio)


def tokens_per_day(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(daily[daily["modality"] == "chat"])
        .transform_fold(["tokens_in", "tokens_out"], as_=["direction", "tokens"])
        .mark_bar()
        .encode(
            _day_axis(),
            alt.Y("sum(tokens):Q", title="Tokens"),
            alt.Color("direction:N", title=None),
            tooltip=["day:T", "direction:N", "sum(tokens):Q"],
        )
    )


def cost_per_day(daily: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(daily)
        .mark_bar()
        .encode(
            _day_axis(),
            alt.Y("sum(cost_usd):Q", title="Cost (USD)"),
            alt.Color("modality:N", scale=MODALITY_COLORS, title="Modality"),
            tooltip=["day:T", "modality:N", alt.Tooltip("cost_usd:Q", format="$.4f")],
        )
    )
