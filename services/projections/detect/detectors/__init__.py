"""Exfiltration detectors: pure functions over one employee's access stream.

Every detector has the signature ``detect_<kind>(accesses, ctx, cfg, *, peers=None)`` and
returns alerts whose ids depend only on (employee, kind, window start), so running a changed
detector over history again deduplicates against what it raised before. Time is never read
from a clock: windows come from the accesses themselves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

from services.projections.detect.detectors.common import (
    PeerCounts,
    daily_distinct_counts,
    ordered,
)
from services.projections.detect.detectors.config import DEFAULT_CONFIG, DetectorConfig
from services.projections.detect.detectors.enumeration import detect_enumeration
from services.projections.detect.detectors.hours import detect_off_hours, in_work_hours
from services.projections.detect.detectors.model import (
    Access,
    Alert,
    EmployeeContext,
    Kind,
    Severity,
    alert_id,
)
from services.projections.detect.detectors.reason import (
    detect_low_and_slow,
    detect_no_business_reason,
)
from services.projections.detect.detectors.volume import (
    detect_notice_activity,
    detect_volume_spike,
)
from services.projections.detect.detectors.window import detect_breadth, detect_bulk_export


class Detector(Protocol):
    """The shape every ``detect_<kind>`` function has."""

    def __call__(
        self,
        accesses: Sequence[Access],
        ctx: EmployeeContext,
        cfg: DetectorConfig = ...,
        *,
        peers: PeerCounts | None = None,
    ) -> list[Alert]: ...


DETECTORS: dict[Kind, Detector] = {
    "volume_spike": detect_volume_spike,
    "breadth": detect_breadth,
    "no_business_reason": detect_no_business_reason,
    "off_hours": detect_off_hours,
    "enumeration": detect_enumeration,
    "bulk_export": detect_bulk_export,
    "notice_activity": detect_notice_activity,
    "low_and_slow": detect_low_and_slow,
}


def run_all(
    accesses: Iterable[Access],
    ctx: EmployeeContext,
    cfg: DetectorConfig = DEFAULT_CONFIG,
    *,
    peers: PeerCounts | None = None,
    kinds: Collection[Kind] | None = None,
) -> list[Alert]:
    """Every detector (or those in ``kinds``) over one employee's accesses, by window start.

    Accesses of other employees are ignored rather than blamed on this one.
    """
    own = ordered(a for a in accesses if a.employee_id == ctx.employee_id)
    alerts = [
        alert
        for kind, detect in DETECTORS.items()
        if kinds is None or kind in kinds
        for alert in detect(own, ctx, cfg, peers=peers)
    ]
    return sorted(alerts, key=lambda a: (a.window_start, a.kind))


__all__ = [
    "DEFAULT_CONFIG",
    "DETECTORS",
    "Access",
    "Alert",
    "Detector",
    "DetectorConfig",
    "EmployeeContext",
    "Kind",
    "PeerCounts",
    "Severity",
    "alert_id",
    "daily_distinct_counts",
    "detect_breadth",
    "detect_bulk_export",
    "detect_enumeration",
    "detect_low_and_slow",
    "detect_no_business_reason",
    "detect_notice_activity",
    "detect_off_hours",
    "detect_volume_spike",
    "in_work_hours",
    "run_all",
]
