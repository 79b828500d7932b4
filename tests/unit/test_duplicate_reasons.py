"""The review queue's plain words for a proposal's evidence."""

from __future__ import annotations

from services.api.queries.duplicate_reasons import reasons


def test_agreeing_attributes_read_as_words_strongest_first_and_missing_ones_are_left_out() -> None:
    evidence = [{"attribute": "phone", "values": [["9120000001"], ["9120000007"]], "weight": 9.5, "level": 1,
                 "label": "one digit wrong or two swapped"},
                {"attribute": "birth_date", "values": ["1980-01-02", "1980-01-02"], "weight": 12.1, "level": 5,
                 "label": "same birth date"},
                {"attribute": "email", "values": [None, None], "weight": 0.0, "level": -1, "label": ""},
                {"attribute": "name", "values": ["irina petrova", "petrova irina"], "weight": 8.0, "level": 9,
                 "label": "first name and surname swapped"},
                {"attribute": "company", "values": ["romashka", "romashka"], "weight": -0.5, "level": 3,
                 "label": "Exact match on company"}]
    assert reasons(evidence) == [("same_birth_date", 12.1), ("phone_typo", 9.5), ("name_swapped", 8.0)]


def test_evidence_stored_before_labels_is_read_by_the_level_numbers_of_its_time() -> None:
    # Level 6 of the name meant "first name and surname swapped" then, and means
    # "different first names, same surname" now: the old proposal must not say the latter.
    old = [{"attribute": "name", "values": ["irina petrova", "petrova irina"], "weight": 8.0, "level": 6},
           {"attribute": "birth_date", "values": ["1980-01-02", "1980-01-03"], "weight": 4.0, "level": 3}]
    assert reasons(old) == [("name_swapped", 8.0), ("birth_date_near", 4.0)]
    now = [{**old[0], "weight": -3.0, "label": "different first names, same surname"}]
    assert reasons(now) == [("different_first_name_same_surname", -3.0)]


def test_a_disagreement_and_a_held_link_are_said_too() -> None:
    evidence = [{"attribute": "birth_date", "values": ["1955-03-01", "1984-11-20"], "weight": -7.0, "level": 0},
                {"attribute": "held", "values": ["phone:+74951112233", "different birth dates"], "weight": 0.0,
                 "level": -1}]
    assert [key for key, _ in reasons(evidence)] == ["held_link", "different_birth_date"]


def test_every_level_of_every_comparison_has_words_and_the_top_level_means_agreement() -> None:
    from services.api.queries.duplicate_reasons import words_for
    from services.projections.duplicates import model
    from services.projections.duplicates.worker import default_model

    labels = model.level_labels(default_model())
    for comparison in model.settings().comparisons:
        found = comparison.get_comparison("duckdb")
        name = found.output_column_name
        levels = {level.comparison_vector_value: level.label_for_charts for level in found.comparison_levels}
        levels.pop(-1)
        assert labels[name] == levels, f"{name}: evidence would carry another level's label"
        words = {gamma: words_for(name, label, gamma) for gamma, label in levels.items()}
        assert None not in words.values(), f"{name}: a level without words: {levels}"
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
