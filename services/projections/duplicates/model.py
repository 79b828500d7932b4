"""The Fellegi-Sunter model (splink on an in-process DuckDB): comparisons, EM training, scoring.

Training is unsupervised: u from random pairs, the prior from records that share a phone
or an email, m by expectation maximisation on two blockings that each leave some
attributes free. The trained model is splink's own JSON, persisted by the store, so a
worker scores with the parameters a supervisor's queue was built from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from services.projections.duplicates.attributes import MatchRecord
from services.projections.duplicates.pairs import Evidence, ScoredPair

log = logging.getLogger(__name__)
SCORING_THREADS = 1  # see _database
_TEXT = pa.string()
_LIST = pa.list_(pa.string())
SCHEMA = pa.schema([("unique_id", _TEXT), ("first_name", _TEXT), ("surname", _TEXT), ("patronymic", _TEXT),
                    ("first_known", pa.bool_()),
                    ("birth_date", _TEXT), ("address", _TEXT), ("company", _TEXT), ("house", _TEXT),
                    ("phones", _LIST), ("phone_masks", _LIST), ("address_numbers", _LIST),
                    ("address_words", _LIST), ("emails", _LIST), ("mailboxes", _LIST), ("block_keys", _LIST)])
# Evidence: attribute shown -> (splink's comparison output name, input columns).
ATTRIBUTES = {"name": ("name", ("first_name", "surname")), "patronymic": ("patronymic", ("patronymic",)),
              "birth_date": ("birth_date", ("birth_date",)),
              "phone": ("phone", ("phones",)), "email": ("email", ("emails",)), "address": ("address", ("address",)),
              "company": ("company", ("company",))}


class _OncePerText(logging.Filter):
    """splink warns at every prediction that the model leaves some m or u values at their
    defaults (the shipped model does): two multi-line warnings per scoring, every few seconds.
    The same text says nothing new, so each is logged once per process."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if "You have called predict()" not in text:
            return True
        if text in self.seen:
            return False
        self.seen.add(text)
        return True


logging.getLogger("splink.internals.linker").addFilter(_OncePerText())


def _array_comparison(name: str, exact: str, near: str, near_label: str) -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name=name, comparison_levels=[
        cll.NullLevel(exact), cll.ArrayIntersectLevel(exact, 1),
        cll.ArrayIntersectLevel(near, 1).configure(label_for_charts=near_label), cll.ElseLevel()])


def _levels(name: str, null: str, *levels: tuple[str, str]) -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name=name, comparison_levels=[
        cll.CustomLevel(null, "missing").configure(is_null_level=True),
        *(cll.CustomLevel(sql, label) for label, sql in levels), cll.ElseLevel()])


def _jw(column: str, other: str | None = None) -> str:
    """Jaro-Winkler of a column on the left with it (or ``other``, names swapped) on the right."""
    return f"jaro_winkler_similarity({column}_l, {other or column}_r)"


_WORDS = ("len(list_intersect(address_words_l, address_words_r))", "len(address_words_l)", "len(address_words_r)")


def _words_in_common(share: float) -> str:
    both = "len(list_distinct(list_concat(address_words_l, address_words_r)))"
    return f"{_WORDS[0]} >= {share} * {both}"


def _all_but(n: int) -> str:
    """Every word of the shorter address but ``n`` is in the other (the city included)."""
    return f"{_WORDS[0]} >= least({_WORDS[1]}, {_WORDS[2]}) - {n}"


_DIFFERENT_FIRST = (f"first_name_l <> first_name_r AND ((first_known_l AND first_known_r)"
                    f" OR {_jw('first_name')} < 0.8)")
# Names: clearly different first names (both known names, or far apart) get a level of their own
# before the similarity levels: a family shares the surname, and Oleg/Olga are close as strings.
NAME = _levels(
    "name", "(first_name_l IS NULL AND surname_l IS NULL) OR (first_name_r IS NULL AND surname_r IS NULL)",
    ("same name", "first_name_l = first_name_r AND surname_l = surname_r"),
    ("first name and surname swapped", "first_name_l = surname_r AND surname_l = first_name_r"),
    ("first name and surname swapped, misspelt", f"{_jw('first_name', 'surname')} >= 0.88"
                                                 f" AND {_jw('surname', 'first_name')} >= 0.88"),
    ("the one name given is the other's", "(first_name_l IS NULL AND surname_l IN (first_name_r, surname_r))"
                                          " OR (first_name_r IS NULL AND surname_r IN (first_name_l, surname_l))"),
    # Same surname, another first name: a relative in one data set, a first name typed anew in another.
    ("different first names, same surname", f"surname_l = surname_r AND {_DIFFERENT_FIRST}"),
    ("different first names", _DIFFERENT_FIRST),
    ("similar name", f"{_jw('first_name')} >= 0.92 AND {_jw('surname')} >= 0.92"),
    ("same first name, surname misspelt", "first_name_l = first_name_r"
                                          " AND damerau_levenshtein(surname_l, surname_r) <= 2"),
    ("roughly similar name", f"{_jw('first_name')} >= 0.88 AND {_jw('surname')} >= 0.88"),
    ("same surname", "surname_l = surname_r"),
)
# The patronymic apart from the name: only where both records have one (a chat rarely gives it),
# and a different one tells a father from his son, who share a first name, surname and landline.
# m is fixed, not learnt: generated rows never misspell a patronymic, so EM would learn that one
# person never writes it two ways (Сергеевич/Сергевич) and sink every such pair.
PATRONYMIC = cl.CustomComparison(output_column_name="patronymic", comparison_levels=[
    cll.CustomLevel("patronymic_l IS NULL OR patronymic_r IS NULL", "missing").configure(is_null_level=True),
    cll.CustomLevel("patronymic_l = patronymic_r", "same patronymic").configure(
        m_probability=0.9, fix_m_probability=True),
    cll.CustomLevel(f"{_jw('patronymic')} >= 0.9", "similar patronymic").configure(
        m_probability=0.07, fix_m_probability=True),
    cll.ElseLevel().configure(m_probability=0.03, fix_m_probability=True)])
# Birth dates as people mistype them: day and month the other way round, a day off (a form's
# time zone), one digit wrong or two swapped. No "within a year" levels: EM on a few hundred
# matches drove their m to 1e-30, a veto on everything else the pair shares.
_DAYS = "abs(date_diff('day', try_cast(birth_date_l AS DATE), try_cast(birth_date_r AS DATE)))"
BIRTH_DATE = _levels(
    "birth_date", "birth_date_l IS NULL OR birth_date_r IS NULL",
    ("same birth date", "birth_date_l = birth_date_r"),
    ("day and month swapped", "left(birth_date_l, 4) = left(birth_date_r, 4)"
                              " AND substr(birth_date_l, 6, 2) = right(birth_date_r, 2)"
                              " AND right(birth_date_l, 2) = substr(birth_date_r, 6, 2)"),
    ("a day apart", f"{_DAYS} <= 1"),
    ("one digit wrong or two swapped", "damerau_levenshtein(birth_date_l, birth_date_r) <= 1"),
    ("same day and month, another year", "right(birth_date_l, 5) = right(birth_date_r, 5)"),
)
# One comparison for the address (its words and its numbers): two would count one fact twice.
# Words, not one string: a shared city in front made any two streets of it look similar.
ADDRESS = _levels(
    "address", "address_l IS NULL OR address_r IS NULL",
    ("same address", "address_l = address_r"),
    ("same house, one address more complete", f"house_l = house_r AND {_all_but(0)}"),
    ("same house number, street misspelt", "split_part(house_l, ':', 1) = split_part(house_r, ':', 1) AND"
                                           " jaro_winkler_similarity(split_part(house_l, ':', 2),"
                                           f" split_part(house_r, ':', 2)) >= 0.85 AND {_all_but(1)}"),
    ("two numbers in common (house, flat, postcode)",
     "len(list_intersect(address_numbers_l, address_numbers_r)) >= 2"),
    ("most words in common", _words_in_common(0.6)),
    ("same street and house number, another flat or town", "house_l = house_r"),
    ("a number in common", "len(list_intersect(address_numbers_l, address_numbers_r)) >= 1"),
    ("half the words in common, no number", _words_in_common(0.5)),
)


def settings() -> SettingsCreator:
    """The comparisons and the prediction blocking (any shared blocking key)."""
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            NAME,
            PATRONYMIC,
            BIRTH_DATE,
            _array_comparison("phone", "phones", "phone_masks", "one digit wrong or two swapped"),
            _array_comparison("email", "emails", "mailboxes", "same mailbox, spelt differently"),
            ADDRESS,
            cl.JaroWinklerAtThresholds("company", [0.95, 0.85]),
        ],
        blocking_rules_to_generate_predictions=[block_on("block_keys", arrays_to_explode=["block_keys"])],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )


def comparisons_of(params: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """What a trained model compares, without its parameters: a model trained before the
    comparisons changed reads columns and levels that are no longer there."""
    return [(c["output_column_name"], [level["sql_condition"] for level in c["comparison_levels"]])
            for c in params.get("comparisons", [])]


def table(records: Sequence[MatchRecord]) -> pa.Table:
    return pa.Table.from_pylist([r.row() for r in records], schema=SCHEMA)


@contextmanager
def _database(threads: int | None = None) -> Iterator[DuckDBAPI]:
    """A fresh in-memory DuckDB for one training or scoring, closed at its end.

    splink's linker and its tables form reference cycles, so an unclosed database (its memory
    and its worker threads) lived until the cycle collector happened to run: the finder held
    tens of them, up to hundreds of threads (bench/README.md, "Memory"). ``threads`` 1 runs a
    scoring's pipelines in the calling thread: a batch is small.
    """
    connection = duckdb.connect(config={"threads": threads} if threads else {})
    db_api = None
    try:
        db_api = DuckDBAPI(connection=connection)
        yield db_api
    finally:
        connection.close()
        # splink's base class opens a DuckDB of its own (``_ddb_con``) that its DuckDB backend
        # never uses: a second database, with its threads, per scoring.
        spare = getattr(db_api, "_ddb_con", None)
        if spare is not None:
            spare.close()


def _linker(db_api: DuckDBAPI, records: Sequence[MatchRecord], model: SettingsCreator | dict[str, Any]) -> Linker:
    # splink logs each training step at INFO; a worker's log wants the outcome only.
    return Linker(db_api.register(table(records)), model, log_level=logging.WARNING)


def train(records: Sequence[MatchRecord], *, seed: int = 1) -> dict[str, Any]:
    """EM-trained parameters for these customers (splink's model JSON as a dict)."""
    with _database() as db_api:
        return _train(_linker(db_api, records, settings()), seed)


def _train(linker: Linker, seed: int) -> dict[str, Any]:
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("phones", arrays_to_explode=["phones"]), block_on("emails", arrays_to_explode=["emails"]),
         block_on("first_name", "surname", "birth_date")], recall=0.7)
    training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    # Each blocking fixes some attributes and lets EM learn m for the others.
    # Same full name, not same surname: a family shares a surname, an address and a phone, and
    # would teach EM that a match may differ in birth date.
    for rule in (block_on("birth_date"), block_on("first_name", "surname")):
        try:
            training.estimate_parameters_using_expectation_maximisation(rule)
        except ValueError as exc:
            # On few customers EM can drive a level's m below what float64 holds; splink refuses
            # it and leaves the model as it was before this step.
            log.warning("EM step skipped", extra={"blocking": str(rule), "reason": str(exc)[:200]})
    return linker.misc.save_model_to_json()  # type: ignore[no-any-return]


def score(records: Sequence[MatchRecord], model: dict[str, Any], min_probability: float) -> list[ScoredPair]:
    """Every pair of records sharing a blocking key and scoring at least ``min_probability``."""
    if len(records) < 2:
        return []
    with _database(SCORING_THREADS) as db_api:
        rows = _linker(db_api, records, model).inference.predict(
            threshold_match_probability=min_probability).as_record_list()
    labels = level_labels(model)
    return [_scored(row, labels) for row in rows]


def score_new(new: Sequence[MatchRecord], known: Sequence[MatchRecord], model: dict[str, Any],
              min_probability: float) -> list[ScoredPair]:
    """Pairs among ``new`` and between ``new`` and ``known`` (never among ``known``: scored before)."""
    if not new:
        return []
    with _database(SCORING_THREADS) as db_api:
        fresh = db_api.register(table(new))
        inference = Linker(fresh, model, log_level=logging.WARNING).inference
        rows = inference.predict_within(fresh, threshold_match_probability=min_probability).as_record_list()
        if known:
            rows += inference.predict_between(fresh, db_api.register(table(known)),
                                              threshold_match_probability=min_probability).as_record_list()
    labels = level_labels(model)
    return [_scored(row, labels) for row in rows]


def level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Each comparison's level labels by splink's gamma (the null level -1, the others numbered
    from the bottom): evidence keeps the label, whose words survive a reordering of the levels."""
    found: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        found[comparison["output_column_name"]] = {
            len(levels) - 1 - i: level.get("label_for_charts", "") for i, level in enumerate(levels)}
    return found


def _scored(row: dict[str, Any], labels: dict[str, dict[int, str]]) -> ScoredPair:
    evidence = []
    for attribute, (output, columns) in ATTRIBUTES.items():
        weight = row.get(f"mw_{output}")
        if weight is None:
            continue
        values = (_shown(row, columns, "l"), _shown(row, columns, "r"))
        level = int(row[f"gamma_{output}"])
        evidence.append(Evidence(attribute, values, round(float(weight), 2), level,
                                 labels.get(output, {}).get(level, "")))
    a, b = sorted((str(row["unique_id_l"]), str(row["unique_id_r"])))
    return ScoredPair(a, b, float(row["match_probability"]), float(row["match_weight"]),
                      tuple(sorted(evidence, key=lambda e: -abs(e.weight))))


def _shown(row: dict[str, Any], columns: tuple[str, ...], side: str) -> object:
    values = [row.get(f"{c}_{side}") for c in columns]
    if len(values) == 1:
        return values[0]
    return " ".join(str(v) for v in values if v) or None

