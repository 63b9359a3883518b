"""Analytics: your own usage over a period; administrators may look at everyone or one user."""

from datetime import UTC, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from core.analytics import COUNTED, Report, Scope
from core.imports.reasons import PLAIN_WORDS, FailureReason
from core.imports.usage import ImportUsage
from core.modality import Modality
from core.periods import Period
from core.runtime import services
from ui import charts
from ui.feedback import user_errors
from ui.media import human_size
from ui.session import current_account

account = current_account()
analytics = services().analytics
PERIODS = {
    Period.DAY: "Last 24 hours",
    Period.WEEK: "Last 7 days",
    Period.MONTH: "Last 30 days",
    Period.ALL: "All time",
    Period.CUSTOM: "Custom…",
}
SCOPES = {"me": "Me", "everyone": "Everyone", "user": "One user"}

st.title("📊 Analytics")


def _chart(title: str, chart: alt.Chart | alt.HConcatChart, table: pd.DataFrame, name: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.altair_chart(chart, width="stretch")
        st.download_button(
            "Download CSV",
            charts.csv_bytes(table),
            file_name=f"analytics-{name}.csv",
            mime="text/csv",
            key=f"csv-{name}",
            icon="⬇️",
        )


def _kpis(report: Report) -> None:
    kpis = report.kpis
    first, second = st.columns(4), st.columns(4)
    first[0].metric("Generations", f"{kpis.generations:,}", help=COUNTED)
    first[1].metric("Failures", f"{kpis.failures:,}")
    first[2].metric("Error rate", f"{kpis.error_rate:.1%}")
    first[3].metric("Cost", f"${kpis.cost_usd:,.4f}")
    second[0].metric("Images (incl. failed)", f"{kpis.by_modality[Modality.IMAGE]:,}")
    second[1].metric("Audio minutes", f"{kpis.audio_minutes:,.1f}")
    second[2].metric("Chat tokens in", f"{kpis.tokens_in:,}")
    second[3].metric("Chat tokens out", f"{kpis.tokens_out:,}")


def _imports(usage: ImportUsage) -> None:
    st.subheader("📥 Imports")
    columns = st.columns(4)
    columns[0].metric("Downloads", f"{usage.downloads:,}")
    columns[1].metric("Downloaded", human_size(usage.size_bytes))
    columns[2].metric("Failed", f"{usage.failures:,}")
    columns[3].metric("Already in the library", f"{usage.duplicates:,}")
    by_domain, by_reason = st.columns(2)
    by_domain.dataframe(
        [
            {"domain": d.domain, "downloads": d.downloads, "failures": d.failures}
            for d in usage.domains
        ],
        hide_index=True,
    )
    by_reason.dataframe(
        [
            {"failure": PLAIN_WORDS[FailureReason(reason)], "count": count}
            for reason, count in usage.reasons
        ],
        hide_index=True,
    )


def _render(report: Report) -> None:
    if report.kpis.generations:
        _generations(report)
    if report.imports.jobs:
        _imports(report.imports)


def _generations(report: Report) -> None:
    _kpis(report)
    daily = charts.daily_table(report)
    models = charts.models_table(report)
    latency = charts.latency_table(report)
    errors = charts.errors_table(report)
    rates = charts.error_rate_table(daily)
    _chart("Generations per day", charts.generations_per_day(daily), daily, "per-day")
    left, right = st.columns(2)
    with left:
        _chart("By provider and model", charts.by_model(models), models, "models")
        _chart("Error rate per day", charts.error_rate_per_day(rates), rates, "error-rate")
        _chart("Chat tokens per day", charts.tokens_per_day(daily), daily, "tokens")
    with right:
        _chart(
            "Latency of completed generations (p50 / p95)",
            charts.latency_percentiles(latency),
            latency,
            "latency",
        )
        _chart("Cost per day", charts.cost_per_day(daily), daily, "cost")
    # Full width: error messages make long labels, and the media chart is two charts.
    if errors.empty:
        st.success("No failures in this period.", icon="✅")
    else:
        _chart("Top error reasons", charts.top_errors(errors), errors, "errors")
    _chart("Images and audio per day", charts.media_per_day(daily), daily, "media")
    _chart("Cost by provider and model", charts.cost_by_model(models), models, "cost-models")


controls = st.columns([2, 2, 3])
period = controls[0].selectbox(
    "Period", list(PERIODS), index=2, format_func=PERIODS.__getitem__, key="analytics_period"
)
today = datetime.now(UTC).date()
start = end = None
if period is Period.CUSTOM:
    days = st.columns(2)
    start = days[0].date_input("First day", today - timedelta(days=6), key="analytics_start")
    end = days[1].date_input("Last day", today, key="analytics_end")

with user_errors():
    scope: Scope | None = None
    if account.is_admin:
        whose = controls[1].selectbox(
            "Whose generations", list(SCOPES), format_func=SCOPES.__getitem__, key="analytics_scope"
        )
        if whose == "everyone":
            scope = Scope.everyone()
        elif whose == "user":
            by_email = {
                email: user_id for user_id, email in services().admin.user_emails(account).items()
            }
            email = controls[2].selectbox("User", list(by_email), key="analytics_user")
            scope = Scope.of(by_email[email]) if email else None
    report = analytics.report(account, period, scope=scope, start=start, end=end)
    if report.is_empty:
        st.info(
            "No generations in this period. Pick a longer period, or make something in the "
            "studios and come back.",
            icon="🌱",
        )
    else:
        _render(report)
