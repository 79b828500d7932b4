"""One-time upgrade of the resolver's lookup tables from plain identifiers to keyed tokens.

Deployments before tokens kept ``phone:+7...`` in ``identity_index``, ``identity_unmatched``,
``identity_held``, ``identity_member_keys`` and ``identity_attributions.keys``; the resolver rewrites what is left of
them when it starts (plain keys never start with ``t:``), so lookups keep finding people.
"""

from __future__ import annotations

from services.projections.identity.identity_log import IdentityLog

PLAIN = "key NOT LIKE 't:%%'"
TABLES = ("identity_index", "identity_unmatched", "identity_held", "identity_member_keys")


def tokenise_plain_rows(log_: IdentityLog) -> int:
    """Rewrite plain keys as tokens, in one transaction; the number of rows rewritten."""
    done = 0
    with log_.datastore.transaction(commit=True) as curs:
        for table in TABLES:
            curs.execute(f"SELECT DISTINCT key FROM {table} WHERE {PLAIN}")  # noqa: S608 - fixed names
            keys = [r["key"] for r in curs.fetchall()]
            if keys:
                curs.executemany(f"UPDATE {table} SET key = %s WHERE key = %s",  # noqa: S608
                                 [(log_.token(k), k) for k in keys])
                done += len(keys)
        curs.execute("SELECT interaction_id, keys FROM identity_attributions"
                     " WHERE keys <> '' AND keys NOT LIKE 't:%%'")
        rows = [(r["interaction_id"], r["keys"]) for r in curs.fetchall()]
        if rows:
            curs.executemany("UPDATE identity_attributions SET keys = %s WHERE interaction_id = %s",
                             [("\n".join(log_.token(k) for k in keys.split("\n") if k), i) for i, keys in rows])
            done += len(rows)
    return done
