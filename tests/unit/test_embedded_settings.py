"""The embedded PostgreSQL's sizing (kartoteka.embedded), without starting one."""

from __future__ import annotations

from kartoteka.embedded import _as_written, server_settings, shared_buffers_mb

GIB = 1024 ** 3


def test_shared_buffers_take_a_quarter_of_the_memory() -> None:
    assert shared_buffers_mb(24 * GIB) == 6144
    assert shared_buffers_mb(4 * GIB) == 1024


def test_shared_buffers_stay_between_postgres_default_and_8gb() -> None:
    assert shared_buffers_mb(256 * 1024 * 1024) == 128
    assert shared_buffers_mb(256 * GIB) == 8192


def test_an_explicit_size_wins_but_never_below_the_default() -> None:
    assert shared_buffers_mb(24 * GIB, "512") == 512
    assert shared_buffers_mb(24 * GIB, "16") == 128


def test_the_server_preloads_pg_prewarm_to_reload_its_cache_after_a_restart() -> None:
    assert server_settings(24 * GIB) == {"shared_buffers": "6144MB", "shared_preload_libraries": "pg_prewarm",
                                         "track_commit_timestamp": "on"}


def test_pg_settings_pages_read_back_as_the_mb_written() -> None:
    # pg_settings reports shared_buffers in 8kB pages: 6144MB is 786432 of them.
    assert _as_written("786432", "8kB") == "6144MB"
    assert _as_written("pg_prewarm", None) == "pg_prewarm"
