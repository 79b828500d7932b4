"""Metrics read from PostgreSQL at scrape time: what the audit holds, not what one process saw.

Alerts by kind and the audit chain's length are facts of the database, whatever process
raised or chained them and however often it restarted; one query each per scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import psycopg
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


class AuditCollector(Collector):
    """``kartoteka_alerts_raised_total{kind, severity}`` and the audit chain's length."""

    def __init__(self, dsn: Callable[[], str]) -> None:
        self.dsn = dsn

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        alerts = CounterMetricFamily("kartoteka_alerts_raised", "Alerts raised, by kind and severity",
                                     labels=["kind", "severity"])
        chain = GaugeMetricFamily("kartoteka_audit_chain_length_records",
                                  "Records in the audit hash chain")
        try:
            with psycopg.connect(self.dsn(), connect_timeout=3) as conn:
                for kind, severity, count in conn.execute(
                        "SELECT kind, severity, count(*) FROM alerts GROUP BY kind, severity"):
                    alerts.add_metric([kind, severity], count)
                row = conn.execute("SELECT seq FROM audit_chain_head WHERE chain = 'access'").fetchone()
                chain.add_metric([], row[0] if row else 0)
        except psycopg.Error as exc:  # a scrape during an outage shows the rest, not an error
            log.warning("audit metrics not read", extra={"error": str(exc)})
            return
        yield from (alerts, chain)
