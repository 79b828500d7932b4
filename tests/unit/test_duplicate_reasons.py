"""The review queue's plain words for a proposal's evidence."""

from __future__ import annotations

from services.api.queries.duplicate_reasons import reasons


def test_agreeing_attributes_read_as_words_strongest_first_and_missing_ones_are_left_out() -> None:
    evidence = [{"attribute": "phone", "values": [["9120000001"], ["9120000007"]], "weight": 9.5, "level": 1},
                {"attribute": "birth_date", "values": ["1980-01-02", "1980-01-02"], "weight": 12.1, "level": 5},
                {"attribute": "email", "values": [None, None], "weight": 0.0, "level": -1},
                {"attribute": "name", "values": ["irina petrova", "petrova irina"], "weight": 8.0, "level": 9},
                {"attribute": "company", "values": ["romashka", "romashka"], "weight": -0.5, "level": 3}]
    assert reasons(evidence) == [("same_birth_date", 12.1), ("phone_typo", 9.5), ("name_swapped", 8.0)]


def test_a_disagreement_and_a_held_link_are_said_too() -> None:
    evidence = [{"attribute": "birth_date", "values": ["1955-03-01", "1984-11-20"], "weight": -7.0, "level": 0},
                {"attribute": "held", "values": ["phone:+74951112233", "different birth dates"], "weight": 0.0,
                 "level": -1}]
    assert [key for key, _ in reasons(evidence)] == ["held_link", "different_birth_date"]


def test_every_level_of_every_comparison_has_words_and_the_top_level_means_agreement() -> None:
    from services.api.queries.duplicate_reasons import _LEVELS
    from services.projections.duplicates import model

    for comparison in model.settings().comparisons:
        found = comparison.get_comparison("duckdb")
        levels = {level.comparison_vector_value for level in found.comparison_levels} - {-1}
        words = _LEVELS[found.output_column_name]
        assert set(words) == levels, found.output_column_name
        assert words[max(levels)].startswith("same") and words[0].startswith("different")


def test_the_shipped_model_compares_what_the_code_compares_and_an_older_one_is_told_apart() -> None:
    from services.projections.duplicates import model
    from services.projections.duplicates.worker import default_model

    current = model.comparisons_of(model.settings().get_settings("duckdb").as_dict())
    shipped = default_model()
    assert model.comparisons_of(shipped) == current, "retrain: python -m bench.duplicates.default_model"
    older = {**shipped, "comparisons": [{**shipped["comparisons"][0], "comparison_levels": [
        {"sql_condition": "email_locals_l = email_locals_r"}]}, *shipped["comparisons"][1:]]}
    assert model.comparisons_of(older) != current


def test_a_held_conflict_in_words_is_said_by_itself_not_as_the_generic_held_link() -> None:
    from services.api.queries.duplicate_reasons import held_conflict

    held = {"attribute": "held", "values": ["email:olga@mail.ru", "shared mailbox, but clearly different first"
                                            " names: Ольга vs Пётр"], "weight": 0.0, "level": -1,
            "identifier": "email", "conflict": "first_name", "conflict_values": ["Ольга", "Пётр"]}
    assert reasons([held]) == []
    assert held_conflict([held]) == [{"identifier": "email", "conflict": "first_name", "values": ["Ольга", "Пётр"]}]
    assert held_conflict([{"attribute": "held", "values": ["phone:+7", "x"], "weight": 0.0, "level": -1}]) == []
