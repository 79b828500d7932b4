"""Scan every column of every table for plain personal data: driven by information_schema, so a
table a later migration adds is covered without anyone remembering to list it."""

from __future__ import annotations

import psycopg
from psycopg import sql

# Kept on purpose (README "Personal data"): the security log keeps the queries typed into
# searches (its own legal basis, readable to security officers only), and so does the detectors'
# working copy of it (enumeration is told from what was searched).
KEPT = frozenset({("access_log", "query"), ("detect_accesses", "query")})


def plain_hits(dsn: str, secrets: list[str]) -> list[str]:
    """``table.column: secret`` for every column whose readable content holds one of ``secrets``."""
    hits = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name)"
            " WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')"
            " ORDER BY 1, 2, 3").fetchall()
        for schema, table, column, data_type in columns:
            if (table, column) in KEPT:
                continue
            name = sql.Identifier(schema, table)
            col = sql.Identifier(column)
            for secret in secrets:
                if data_type == "bytea":
                    query = sql.SQL("SELECT 1 FROM {} WHERE position(convert_to(%s, 'UTF8') in {}) > 0 LIMIT 1")
                else:
                    query = sql.SQL("SELECT 1 FROM {} WHERE strpos(lower({}::text), lower(%s)) > 0 LIMIT 1")
                if conn.execute(query.format(name, col), (secret,)).fetchone():
                    hits.append(f"{schema}.{table}.{column}: {secret}")
    return hits
