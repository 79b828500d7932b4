"""The api's database login cannot become a writer of the audit tables, whatever it tries
(against the real embedded PostgreSQL)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from services.api.db_role import API_LOGIN

pytestmark = pytest.mark.integration
WRITES = ("INSERT INTO access_log (id, employee_id, role, action, at, request_id, route)"
          " VALUES (gen_random_uuid(), 'x', 'agent', 'customer.card', now(), 'r', '/')",
          "UPDATE access_log SET role = 'x'", "DELETE FROM access_log",
          "UPDATE audit_chain_head SET seq = 0", "DELETE FROM audit_checkpoints",
          "INSERT INTO audit_checkpoints (chain, seq, hash, signature, signed_at)"
          " VALUES ('access', 999999, 'h', 's', now())")


def _as_api(settings) -> psycopg.Connection:
    return psycopg.connect(make_conninfo(settings.dsn, user=API_LOGIN, password=""), autocommit=True)


def test_the_api_login_cannot_set_role_back_to_the_owner_or_any_writer(settings):
    owner = conninfo_to_dict(settings.dsn)["user"]
    with _as_api(settings) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == API_LOGIN
        for role in (owner, "postgres", "pg_write_all_data"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f'SET ROLE "{role}"')  # type: ignore[arg-type]
        conn.execute("RESET ROLE")  # back to the login itself, which is no writer either
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET SESSION AUTHORIZATION DEFAULT; SET SESSION AUTHORIZATION postgres")
        memberships = {r[0] for r in conn.execute(
            "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid"
            " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = current_user")}
        assert memberships == {"kartoteka_api"}


@pytest.mark.parametrize("statement", WRITES)
def test_the_api_login_cannot_write_the_audit_tables(settings, statement):
    with _as_api(settings) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)  # type: ignore[arg-type]
        assert conn.execute("SELECT count(*) >= 0 FROM access_log").fetchone()[0] is True


def test_the_api_pool_runs_as_that_login(api):
    assert api.app.state.db_role == API_LOGIN
