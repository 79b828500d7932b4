"""Splink's own FEBRL example configuration (its dedupe tutorial), on the bench's rows.

Columns are taken from each row the way that example expects them: given name and surname
as typed, the birth date as YYYYMMDD, the identifier number (FEBRL's soc_sec_id, else the
phone's digits), the street number, the street and the postcode from the address.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import duckdb
import pyarrow as pa
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.exceptions import EMTrainingException
from unidecode import unidecode

from bench.duplicates.russian import Row

_FIELDS = ("given_name", "surname", "date_of_birth", "soc_sec_id", "street_number", "address_1", "postcode")


def columns(n: int, row: Row) -> dict[str, Any]:
    words = unidecode(row.name or "").lower().split()
    address = unidecode(row.address or "").lower()
    numbers = re.findall(r"\d+", address)
    digits = re.sub(r"\D", "", row.number or row.phone or "")[-10:]
    return {"rec_id": n, "given_name": words[0] if words else None,
            "surname": words[-1] if len(words) > 1 else None,
            "date_of_birth": (row.birth_date or "").replace("-", "") or None, "soc_sec_id": digits or None,
            "street_number": numbers[0] if numbers else None,
            "address_1": " ".join(re.findall(r"[a-z]+", address)) or None,
            "postcode": next((x for x in numbers if len(x) in (4, 6)), None)}


def settings() -> SettingsCreator:
    return SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )


def links(rows: list[Row], min_score: float) -> list[tuple[int, int, float]]:
    """Pairs of row numbers the example model scores at least ``min_score``."""
    table = pa.Table.from_pylist([columns(n, r) for n, r in enumerate(rows)],
                                 schema=pa.schema([("rec_id", pa.int64())] + [(f, pa.string()) for f in _FIELDS]))
    db_api = DuckDBAPI(connection=duckdb.connect())
    linker = Linker(db_api.register(table), settings(), log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match([
        "l.soc_sec_id = r.soc_sec_id",
        "l.given_name = r.given_name and l.surname = r.surname and l.date_of_birth = r.date_of_birth",
        "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
    ], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (block_on("date_of_birth"), block_on("postcode")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except (EMTrainingException, ValueError):  # no pairs on this data: keep the earlier estimates
            continue
    found = linker.inference.predict(threshold_match_probability=min_score).as_record_list()
    return [(int(r["rec_id_l"]), int(r["rec_id_r"]), float(r["match_probability"])) for r in found]
