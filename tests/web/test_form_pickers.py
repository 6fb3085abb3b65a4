"""The forms' pickers (issue 18), without a browser: a country or language typed or chosen by its
German CLDR name becomes its code; what is no country gets a message about the list, never one
about characters; the consent form's checkboxes become the scope; the correction form takes a
German date."""

from __future__ import annotations

from typing import Any

from api.schemas.cases import FactCorrectedIn, RegisterCase
from api.web import forms

REGISTRATION = {
    "person.given_name": "Yonas",
    "person.family_name": "Haile",
    "person.birth_date": "02.11.1990",
    "residence_municipality": "Hückelhoven",
    "legal_status": "asylum_seeker",
}


def registered(**posted: str) -> tuple[Any, dict[str, str]]:
    return forms.validate(forms.REGISTER, {**REGISTRATION, **posted})


def test_a_country_and_languages_chosen_by_their_german_names() -> None:
    body, errors = registered(**{"person.nationality": "Syrien", "person.languages.0": "Arabisch",
                                 "person.languages.1": "kurdisch"})  # fmt: skip
    assert errors == {}
    assert isinstance(body, RegisterCase)
    assert body.person.nationality == "SY"
    assert body.person.languages == ["ar", "ku"]
    body, _ = registered(**{"person.nationality": "ER"})  # a code still does
    assert isinstance(body, RegisterCase)
    assert body.person.nationality == "ER"


def test_a_name_that_is_no_country_gets_a_message_about_the_list() -> None:
    for typed in ("Atlantis", "Syrische Arabische Republik Ost", "S"):
        _, errors = registered(**{"person.nationality": typed, "person.languages.0": "Klingonisch"})
        assert errors["person.nationality"] == "Bitte ein Land aus der Liste wählen.", typed
        assert errors["person.languages.0"] == "Bitte eine Sprache aus der Liste wählen."
        assert not any("Zeichen" in m for m in errors.values()), errors


def test_the_consent_scope_comes_from_checkboxes() -> None:
    form = forms.CASE_FORMS["ConsentGiven"]
    posted = {"consent_id": "c1", "purpose": "share_with_mentor", "recipient": "drk-heinsberg",
              "scope.name": "1", "scope.placements": "1", "given_on": "04.05.2026"}  # fmt: skip
    body, errors = forms.validate(form, posted)
    assert errors == {}
    assert body is not None
    assert body.model_dump()["scope"] == ["name", "placements"]
    _, errors = forms.validate(form, {**posted, "scope.name": "", "scope.placements": ""})
    assert errors["scope"] == "Bitte mindestens eine Angabe ankreuzen."


def test_the_correction_form_takes_a_german_date() -> None:
    form = forms.CASE_FORMS["FactCorrected"]
    posted = {"corrects_version": "1", "field": "birth_date", "value": "12.11.1990",
              "reason": "laut Pass"}  # fmt: skip
    body, errors = forms.validate(form, posted)
    assert errors == {}
    assert isinstance(body, FactCorrectedIn)
    assert body.value == "1990-11-12"
