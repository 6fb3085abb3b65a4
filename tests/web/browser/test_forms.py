"""Forms in a real browser: a validation message next to the field it is about; a form posted
without the CSRF token is refused and records nothing."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from tests.support.browser import Browser


def test_validation_messages_stand_next_to_their_fields(browser: Browser) -> None:
    page = browser.page
    browser.sign_in("a.schmitz")
    browser.go("/ui/cases/new")
    page.get_by_label("Vorname").fill("Yonas")
    page.get_by_label("Geburtsdatum").fill("31.02.1990")  # no such day
    page.get_by_label("Staatsangehörigkeit").fill("ER")
    page.get_by_label("BAMF-Aktenzeichen").fill("123")
    page.get_by_role("button", name="Registrieren").click()

    expect(page.get_by_role("alert")).to_contain_text("Bitte korrigieren Sie folgende Angaben")
    for label, message in (
        ("Familienname", "Bitte ausfüllen."),
        ("Geburtsdatum", "Bitte ein Datum im Format TT.MM.JJJJ angeben."),
        ("BAMF-Aktenzeichen", "Das Format stimmt nicht: Aktenzeichen des BAMF"),
        ("Wohnort (Gemeinde)", "Bitte ausfüllen."),
    ):
        field = page.locator(".field", has=page.get_by_label(label))
        expect(field.locator(".error")).to_contain_text(message)
        control = page.get_by_label(label)
        expect(control).to_have_attribute("aria-invalid", "true")
        error_id = field.locator(".error").get_attribute("id")
        assert error_id in (control.get_attribute("aria-describedby") or "").split()
    expect(page.get_by_label("Vorname")).to_have_value("Yonas")  # what was typed stays
    browser.shot("registrieren-fehler")

    page.get_by_role("link", name="Familienname: Bitte ausfüllen.").click()  # the summary links
    expect(page.get_by_label("Familienname")).to_be_focused()


def test_a_form_without_the_csrf_token_is_refused(browser: Browser) -> None:
    page = browser.page
    browser.sign_in("a.schmitz")
    family = f"Csrf-{secrets.token_hex(3)}"
    registration: dict[str, str | float | bool] = {
        "person.given_name": "Amira",
        "person.family_name": family,
        "person.birth_date": "21.06.1988",
        "person.nationality": "SY",
        "residence_municipality": "Geilenkirchen",
        "legal_status": "asylum_seeker",
    }
    missing = page.request.post(f"{browser.base}/ui/cases/new", form=registration)
    assert missing.status == 403
    assert "Formular abgelehnt" in missing.text()
    assert missing.headers["content-security-policy"].startswith("default-src 'none'")
    forged = page.request.post(
        f"{browser.base}/ui/cases/new", form={**registration, "csrf": "forged"}
    )
    assert forged.status == 403

    browser.go(f"/ui/cases?q={family}")
    expect(page.locator("main")).to_contain_text("Keine Fälle gefunden.")
    browser.shot("nichts-registriert")
