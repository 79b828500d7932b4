"""Matching keys of possible duplicates: names across scripts, addresses, phones, blocking keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events.names import parse_name, phonetic
from services.projections.duplicates.attributes import (
    block_keys,
    mailbox,
    match_record,
    normal_address,
    normal_birth_date,
    phone_masks,
)
from services.projections.duplicates.observe import record_of


@pytest.mark.parametrize(("a", "b"), [
    ("Щукин", "Shchukin"), ("Юлия", "Julia"), ("Юлия", "Iuliia"), ("Юлия", "Yulia"), ("Ёлкина", "Yolkina"),
    ("Алексей", "Alexey"), ("Соловьёв", "Solovyov"), ("Цой", "Tsoi"), ("Хабибуллин", "Khabibullin"),
])
def test_cyrillic_and_latin_spellings_of_one_name_share_a_key(a: str, b: str) -> None:
    assert phonetic(a) == phonetic(b)


def test_different_names_keep_different_keys() -> None:
    assert phonetic("Петрова") != phonetic("Петров")
    assert phonetic("Иванов") != phonetic("Ивашов")


@pytest.mark.parametrize("text", ["Александр Щукин", "Саша Щукин", "Щукин Александр", "Sasha Shchukin",
                                  "Щукин Александр Петрович", "Shura Schukin"])
def test_diminutives_order_and_patronymics_parse_to_one_name(text: str) -> None:
    assert parse_name(text) == parse_name("Александр Щукин")


def test_a_lone_first_name_is_a_first_name_and_a_lone_other_word_a_surname() -> None:
    assert parse_name("Маша").first == phonetic("Мария") and parse_name("Маша").surname is None
    assert parse_name("Иванова").surname == "ivanova" and parse_name("Иванова").first is None
    assert parse_name("").first is None and parse_name(None).surname is None


def test_addresses_lose_kind_words_and_punctuation_whatever_the_form() -> None:
    a = normal_address("г. Москва, ул. Ленина, д. 5, кв. 12")
    assert a == normal_address("Москва, улица Ленина, дом 5, квартира 12") == "moskva lenina 5 12"
    assert normal_address("  ,. ") is None


def test_birth_dates_outside_a_lifetime_are_not_matching_attributes() -> None:
    assert normal_birth_date("1985-04-02") == "1985-04-02"
    assert normal_birth_date("1850-01-01") is None
    assert normal_birth_date("2-4-1985") is None


def test_numbers_one_digit_apart_share_a_mask_and_others_do_not() -> None:
    assert set(phone_masks(["9123456789"])) & set(phone_masks(["9123456780"]))
    assert not set(phone_masks(["9123456789"])) & set(phone_masks(["9123456700"]))


def test_plus_seven_and_eight_spellings_are_one_number() -> None:
    a = match_record("a", phones=["+7 912 345-67-89"])
    b = match_record("b", phones=["8 (912) 3456789"])
    assert a.phones == b.phones == ("9123456789",)


def test_blocking_pairs_a_swapped_name_with_the_same_birth_date() -> None:
    a = match_record("a", names=["Ирина Петрова"], birth_date="1980-01-02", phones=["+79120000001"])
    b = match_record("b", names=["Petrova Irina"], birth_date="1980-01-02", phones=["+79350000002"])
    assert set(block_keys(a)) & set(block_keys(b))


def test_blocking_keeps_strangers_apart() -> None:
    a = match_record("a", names=["Ирина Петрова"], birth_date="1980-01-02", phones=["+79120000001"])
    b = match_record("b", names=["Олег Сидоров"], birth_date="1975-05-06", phones=["+79350000002"])
    assert not set(block_keys(a)) & set(block_keys(b))


def test_a_profile_value_wins_over_what_interactions_said() -> None:
    t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    record = record_of("c", [("birth_date", "1980-01-02", "profile", t1),
                             ("birth_date", "1981-01-02", "web_form", t2),
                             ("name", "Ира Петрова", "call", t1), ("phone", "+79120000001", "call", t1)])
    assert record.birth_date == "1980-01-02"
    assert (record.first_name, record.surname) == ("irina", "petrova")
    assert record.phones == ("9120000001",)


def test_a_postcode_goes_last_and_stays_out_of_the_blocking_keys() -> None:
    with_code = match_record("a", names=["Ира Ким"], address="170100, г. Тверь, ул. Мира, д. 5, кв. 3")
    without = match_record("b", names=["Ирина Ким"], address="Тверь, Мира ул., 5, кв. 3")
    assert with_code.address == "tver mira 5 3 170100"
    assert {"a:tver mira 5 3:i", "h:5:mira"} <= set(with_code.block_keys) & set(without.block_keys)


def test_a_street_called_naberezhnaia_keeps_its_name_and_the_model_row_leaves_the_postcode_out() -> None:
    row = match_record("a", address="682747, г. Тверь, ул. Набережная, д. 44, кв. 3").row()
    assert row["address"] == "tver naberezhnaia 44 3" and row["house"] == "44:naberezhnaia"
    assert row["address_numbers"] == ["3", "44", "682747"]
    assert row["address_words"] == ["3", "44", "naberezhnaia", "tver"]


def test_one_mailbox_spelt_with_dots_or_a_tag_is_one_and_the_same_login_elsewhere_is_not() -> None:
    assert mailbox("Ivan.Petrov+shop@gmail.com".lower()) == mailbox("ivanpetrov@gmail.com")
    assert mailbox("ivan.petrov85@mail.ru") != mailbox("ivan.petrov85@yandex.ru")


def test_blocking_pairs_a_misspelt_surname_by_first_name_and_house_number_or_birth_month() -> None:
    a = match_record("a", names=["Галина Королёва"], address="Тверь, ул. Молодёжная, д. 32", phones=["+79120000001"])
    b = match_record("b", names=["Галина Королва"], address="Тверь, Молодёная ул., 32", phones=["+79350000002"])
    assert set(a.block_keys) & set(b.block_keys) == {"fh:galina:32"}
    c = match_record("c", names=["Сергей Ильин"], birth_date="1976-01-02", phones=["+79120000003"])
    d = match_record("d", names=["Сергей Ильтин"], birth_date="1976-01-01", phones=["+79350000004"])
    assert set(c.block_keys) & set(d.block_keys) == {"fb:sergei:1976-01"}


def test_a_patronymic_is_kept_beside_the_name_and_the_latest_one_given_counts() -> None:
    assert parse_name("Щукин Александр Петрович").patronymic == phonetic("Петрович")
    assert parse_name("Пётр Сергеевич Иванов").patronymic == phonetic("Сергеевич")
    assert parse_name("Пётр Иванов").patronymic is None
    assert parse_name("Mary Ann Smith").patronymic is None, "three words, none of them a patronymic"
    record = match_record("c", names=["Пётр Сергеевич Иванов", "Петя Иванов"])
    assert (record.first_name, record.patronymic) == (phonetic("Пётр"), phonetic("Сергеевич")), \
        "a later name without it does not take it away"


def test_the_same_patronymic_counts_for_a_pair_and_another_one_against_it() -> None:
    from services.projections.duplicates import model
    from services.projections.duplicates.worker import default_model

    def scored(patronymic: str) -> float:
        a = match_record("a", names=["Иван Петрович Смирнов"], phones=["+79161234567"])
        b = match_record("b", names=[f"Иван {patronymic} Смирнов"], phones=["+79161234568"])
        [pair] = model.score_new([a], [b], default_model(), 0.0)
        [evidence] = [e for e in pair.evidence if e.attribute == "patronymic"]
        assert set(evidence.values) == {phonetic("Петрович"), phonetic(patronymic)}
        return pair.weight

    assert scored("Петрович") > scored("Петрович".replace("ро", "р")) > scored("Андреевич")
