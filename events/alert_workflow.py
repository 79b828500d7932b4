"""An alert worked to an end: status changes by security officers, and what a false positive
suppresses. The changes travel on ``alerts.v1`` beside the alerts (keyed by the employee the
alert is about), so SIEM consumers see them and the alerts read model applies them in order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from events.catalog import AlertKind
from events.envelope import register

_FROZEN = ConfigDict(frozen=True, extra="forbid")
AlertStatus = Literal["open", "acknowledged", "resolved", "false_positive", "suppressed"]
"""``suppressed``: raised while a false positive of the same pattern was in force."""
NewStatus = Literal["acknowledged", "resolved", "false_positive"]
"""What an officer may set."""
FINAL: frozenset[str] = frozenset({"resolved", "false_positive"})
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL text cannot hold U+0000
        raise ValueError("must not contain NUL (U+0000) characters")
    return value


Comment = Annotated[str, Field(max_length=2000), AfterValidator(_no_nul)]


def allowed(current: str, new: str) -> bool:
    """Open, suppressed or acknowledged alerts move on; resolved and false positives are final,
    and no status is set twice."""
    return current not in FINAL and current != new


@register("kartoteka.alert.status_changed.v1")
class AlertStatusChanged(BaseModel):
    """A security officer moved an alert along its workflow.

    ``suppress_until`` (false positives only): until then, alerts of the same ``kind`` about the
    same employee, no more severe than ``severity``, are recorded as ``suppressed``, not open.
    """

    model_config = _FROZEN
    change_id: str
    alert_id: str
    employee_id: str
    kind: AlertKind
    severity: Literal["low", "medium", "high", "critical"]
    status: NewStatus
    comment: Comment | None = None
    by: str
    at: datetime
    suppress_until: datetime | None = None


def suppression_end(status: str, at: datetime, days: float) -> datetime | None:
    """How long a false positive silences its pattern (nothing for other statuses)."""
    return at + timedelta(days=days) if status == "false_positive" and days > 0 else None
