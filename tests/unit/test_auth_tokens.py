"""Bearer tokens: what verifies, and every way a token is refused."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from kartoteka.auth import InvalidToken, Principal, Role, mint, verify

SECRET = "unit-test-secret-that-is-long-enough-for-hs256"
OTHER_SECRET = "another-secret-that-is-also-long-enough-for-hs256"


def forged(**claims: Any) -> str:
    """A token signed with our secret but with claims of the test's choosing."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": "kartoteka",
        "sub": "emp-42",
        "role": "agent",
        "iat": now,
        "exp": now + 600,
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, SECRET, algorithm="HS256")


@pytest.mark.parametrize("role", list(Role))
def test_a_minted_token_verifies_to_its_subject_and_role(role: Role) -> None:
    assert verify(SECRET, mint(SECRET, "emp-42", role, 3600)) == Principal("emp-42", role)


def test_a_cyrillic_subject_survives_the_round_trip() -> None:
    assert verify(SECRET, mint(SECRET, "сотрудник-7", Role.agent, 60)).subject == "сотрудник-7"


def test_a_token_minted_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidToken):
        verify(SECRET, mint(OTHER_SECRET, "emp-42", Role.admin, 3600))


def test_an_expired_token_is_refused() -> None:
    an_hour_ago = time.time() - 3600
    with pytest.raises(InvalidToken, match="expired"):
        verify(SECRET, mint(SECRET, "emp-42", Role.agent, 60, now=an_hour_ago))


def test_a_token_still_inside_its_ttl_verifies() -> None:
    a_minute_ago = time.time() - 60
    assert (
        verify(SECRET, mint(SECRET, "emp-42", Role.agent, 3600, now=a_minute_ago)).role
        is Role.agent
    )


def test_mint_uses_the_given_now_for_iat_and_exp() -> None:
    token = mint(SECRET, "emp-42", Role.agent, 90, now=1_700_000_000.7)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert (claims["iat"], claims["exp"], claims["iss"]) == (
        1_700_000_000,
        1_700_000_090,
        "kartoteka",
    )


@pytest.mark.parametrize("part", [0, 1, 2])
def test_a_token_with_any_part_tampered_is_refused(part: int) -> None:
    pieces = mint(SECRET, "emp-42", Role.agent, 3600).split(".")
    pieces[part] = pieces[part][:-2] + ("AA" if not pieces[part].endswith("AA") else "BB")
    with pytest.raises(InvalidToken):
        verify(SECRET, ".".join(pieces))


def test_a_payload_swapped_for_a_more_powerful_role_is_refused() -> None:
    header, _, signature = mint(SECRET, "emp-42", Role.agent, 3600).split(".")
    _, admin_payload, _ = mint(OTHER_SECRET, "emp-42", Role.admin, 3600).split(".")
    with pytest.raises(InvalidToken):
        verify(SECRET, f"{header}.{admin_payload}.{signature}")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-token", id="garbage"),
        pytest.param("a.b.c", id="three-garbage-parts"),
        pytest.param(
            jwt.encode(
                {"iss": "kartoteka", "sub": "x", "role": "admin", "exp": 4_000_000_000},
                None,
                "none",
            ),
            id="alg-none",
        ),
    ],
)
def test_a_malformed_or_unsigned_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify(SECRET, token)


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"role": "superuser"}, id="unknown-role"),
        pytest.param({"role": "Admin"}, id="role-in-wrong-case"),
        pytest.param({"role": None}, id="no-role"),
        pytest.param({"role": ["admin"]}, id="role-as-list"),
        pytest.param({"sub": 42}, id="subject-not-a-string"),
        pytest.param({"sub": None}, id="no-subject"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"iss": None}, id="no-issuer"),
        pytest.param({"iss": "someone-else"}, id="foreign-issuer"),
    ],
)
def test_a_token_with_missing_or_wrong_claims_is_refused(claims: dict[str, Any]) -> None:
    assert verify(SECRET, forged()) == Principal("emp-42", Role.agent)
    with pytest.raises(InvalidToken):
        verify(SECRET, forged(**claims))


def test_a_token_verified_once_still_expires_on_time(monkeypatch: pytest.MonkeyPatch) -> None:
    token = mint(SECRET, "emp-7", Role.agent, ttl_s=60)
    assert verify(SECRET, token) == Principal("emp-7", Role.agent)
    assert verify(SECRET, token) == Principal("emp-7", Role.agent)  # remembered
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(InvalidToken):
        verify(SECRET, token)


def test_a_token_verified_under_one_secret_is_not_taken_under_another() -> None:
    token = mint(SECRET, "emp-7", Role.agent, ttl_s=60)
    verify(SECRET, token)
    with pytest.raises(InvalidToken):
        verify(OTHER_SECRET, token)


def test_the_token_command_mints_for_the_data_protection_officer() -> None:
    from kartoteka.entrypoints.cli import parser

    args = parser().parse_args(["token", "--subject", "dpo-1", "--role", "dpo"])
    assert Role(args.role) is Role.dpo
    assert verify(SECRET, mint(SECRET, args.subject, Role(args.role), 60)) == Principal("dpo-1", Role.dpo)
