"""Detector thresholds: every default is documented here, and all can be overridden.

A threshold is the most that is still normal: a detector alerts when a count goes *above*
it. The defaults assume a contact-center agent who opens some 30-80 customers in a shift,
each a customer they are talking to or whose request is in their queue.
"""

from __future__ import annotations

import json
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from events.catalog import AccessAction

# Reports and segments list customers in bulk: every customer they return counts as viewed.
_VIEWS: frozenset[AccessAction] = frozenset(
    {"customer.card", "customer.timeline", "customer.export", "report.dormant", "report.birthdays",
     "customer.segment"}
)
_CUSTOMER_DATA: frozenset[AccessAction] = _VIEWS | {"customer.search"}
# Every door that shows who a customer is: cards, timelines, exports, search result lists,
# request and task lists, reports (pages record the same actions).
_REVEALING: frozenset[AccessAction] = _CUSTOMER_DATA | {
    "request.list", "task.list", "report.dormant", "report.birthdays", "customer.segment"}


class DetectorConfig(BaseModel):
    """Thresholds and windows of every detector (frozen; build a new one to change them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    view_actions: frozenset[AccessAction] = Field(
        default=_VIEWS,
        description="Actions whose customer ids count as customers viewed. Search hits are "
        "left out: one search for a common name lists dozens of people; harvesting through "
        "search is the enumeration detector's job.",
    )
    reason_actions: frozenset[AccessAction] = Field(
        default=_REVEALING,
        description="Actions whose customers need a business reason (no_business_reason, "
        "low_and_slow): every door that reveals who a customer is counts the same.",
    )
    activity_actions: frozenset[AccessAction] = Field(
        default=_REVEALING, description="Actions counted as customer-data activity (off_hours)."
    )

    baseline_days: int = Field(default=14, ge=1, description="Trailing days of the own baseline.")
    baseline_min_days: int = Field(
        default=5, ge=1, description="Active days needed before an own baseline is trusted."
    )
    volume_mad_k: float = Field(
        default=5.0, gt=0, description="Own baseline: alert above median + k * 1.4826 * MAD."
    )
    volume_min_ratio: float = Field(
        default=2.0, ge=1, description="Own baseline: and above this multiple of the median."
    )
    volume_peer_factor: float = Field(
        default=2.5, ge=1, description="Peer group: alert above this multiple of the peers' median."
    )
    volume_new_peer_factor: float = Field(
        default=3.75, ge=1,
        description="Without an own baseline yet: above this multiple of the peers' median.",
    )
    volume_min_count: int = Field(
        default=40, ge=1, description="Never a volume spike at or below this many customers a day."
    )
    peer_min_size: int = Field(
        default=3, ge=1, description="Peer counts needed for a peer baseline."
    )

    breadth_window: timedelta = Field(default=timedelta(hours=1), description="Sliding window.")
    breadth_threshold: int = Field(
        default=60, ge=1, description="Distinct customers in the window."
    )

    no_reason_count: int = Field(
        default=20, ge=0, description="Customers a day viewed without a business reason."
    )
    no_reason_share: float = Field(
        default=0.2, ge=0, le=1, description="And their share of the day's customers viewed."
    )
    no_reason_factor: float = Field(
        default=3.0, ge=1, description="And this multiple of the employee's own median day."
    )

    off_hours_threshold: int = Field(
        default=10, ge=0, description="Accesses in one run outside the employee's hours."
    )
    off_hours_gap: timedelta = Field(
        default=timedelta(hours=2), description="A longer pause ends a run of off-hours accesses."
    )
    shift_grace: timedelta = Field(
        default=timedelta(minutes=45), description="A scheduled shift widened by this either side."
    )
    usual_hour_share: float = Field(
        default=0.1, gt=0, le=1,
        description="Learned hours: an hour is usual when active on this share of the days "
        "(own history: of the employee's active days; team: of the peers' days).",
    )
    hours_baseline_days: int = Field(
        default=28, ge=1, description="Trailing days the own and the team's usual hours come from."
    )

    enum_window: timedelta = Field(default=timedelta(minutes=30), description="Sliding window.")
    enum_max_gap: timedelta = Field(
        default=timedelta(minutes=5),
        description="Longest pause inside a run of sequential queries.",
    )
    enum_max_step: int = Field(
        default=10, ge=1, description="Largest increment still 'the next' phone number or prefix."
    )
    enum_sequential_run: int = Field(
        default=6, ge=1, description="Queries in a run, each the next of the previous one."
    )
    enum_prefix_len: int = Field(
        default=2, ge=1, description="A query this short is a bare prefix."
    )
    enum_prefix_count: int = Field(
        default=15, ge=1, description="Bare-prefix searches in the window."
    )
    enum_search_count: int = Field(
        default=60, ge=1, description="Searches of any kind in the window."
    )
    enum_name_count: int = Field(
        default=25, ge=1,
        description="Different names (surnames, name prefixes) searched in the window.",
    )

    export_threshold: int = Field(default=5, ge=0, description="Exports in one local day.")

    notice_factor: float = Field(
        default=2.0,
        ge=1,
        description="After notice: daily customers above this multiple of before.",
    )
    notice_min_count: int = Field(
        default=20, ge=0, description="After notice: never an alert at or below this many a day."
    )

    low_slow_days: int = Field(default=30, ge=1, description="Rolling window, in local days.")
    low_slow_threshold: int = Field(
        default=120, ge=1, description="Distinct customers without a business reason in the window."
    )


DEFAULT_CONFIG = DetectorConfig()


def with_overrides(text: str) -> DetectorConfig:
    """The defaults with a JSON object of field names over them (``KARTOTEKA_DETECTORS``);
    ValueError (a pydantic ValidationError among them) when it is not one."""
    if not text.strip():
        return DEFAULT_CONFIG
    overrides = json.loads(text)
    if not isinstance(overrides, dict):
        raise ValueError("not a JSON object")
    return DetectorConfig(**{**DEFAULT_CONFIG.model_dump(), **overrides})
