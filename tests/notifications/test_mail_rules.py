"""The pure rules of the mails (domain/notifications.py) and the organisations' team address."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.orgs import Organisations, OrgsFileError
from adapters.settings import Settings
from bootstrap import StartupError, check_production
from domain.notifications import (
    MailKind,
    handover_mail,
    is_overdue,
    previous_working_day,
    reminder_day,
)
from domain.policy import handover_due_date
from tests.support.api import ORGS_FILE

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(days)
def test_the_previous_working_day_is_the_last_weekday_before(day: date) -> None:
    before = previous_working_day(day)
    assert before < day
    assert before.weekday() < 5
    between = [before + timedelta(days=n) for n in range(1, (day - before).days)]
    assert all(d.weekday() >= 5 for d in between)


@given(days, st.integers(min_value=1, max_value=20))
def test_a_reminder_comes_after_the_offer_and_before_the_deadline(
    offered_on: date, working_days: int
) -> None:
    due_on = handover_due_date(offered_on, working_days)
    remind_on = reminder_day(offered_on, due_on)
    if working_days == 1:
        assert remind_on is None  # the offer's own mail names the deadline: the next day
    else:
        assert remind_on is not None
        assert offered_on < remind_on < due_on
        assert handover_due_date(remind_on, 1) == due_on  # one working day before
        assert not is_overdue(due_on, remind_on)
    assert not is_overdue(due_on, due_on)
    assert is_overdue(due_on, due_on + timedelta(days=1))


@given(st.sampled_from(list(MailKind)), days, st.uuids())
def test_every_mail_links_to_the_inbox_and_names_the_case_only_by_its_id(
    kind: MailKind, due_on: date, case_id: object
) -> None:
    mail = handover_mail(
        kind, org_name="Jobcenter Kreis Heinsberg", case_ref=str(case_id), due_on=due_on,
        base_url="https://staffel.example/",
    )  # fmt: skip
    assert "https://staffel.example/ui/handovers?direction=incoming" in mail.body
    assert str(case_id) in mail.subject
    assert due_on.strftime("%d.%m.%Y") in mail.subject + mail.body
    assert not re.search(r"[\r\n]", mail.subject)


ORG = '[[organisation]]\nid = "jc"\nname = "Jobcenter"\nkind = "jobcenter"\n'


def test_the_team_address_is_optional_and_must_be_one_address() -> None:
    assert Organisations.from_toml(ORG).get("jc").team_email is None  # type: ignore[union-attr]
    with_mail = Organisations.from_toml(ORG + 'team_email = "team@jc.example"\n')
    assert with_mail.get("jc").team_email == "team@jc.example"  # type: ignore[union-attr]
    for bad in ("team", "a@b.example, c@d.example", "x@y.example\\nBcc: e@f.example", "1"):
        value = bad if bad == "1" else f'"{bad}"'
        with pytest.raises(OrgsFileError, match="team_email"):
            Organisations.from_toml(ORG + f"team_email = {value}\n")


def test_production_with_smtp_needs_the_public_address_and_the_sender(tmp_path: Path) -> None:
    base: dict[str, Any] = {
        "database_url": "sqlite:///x.db", "orgs_file": ORGS_FILE, "jwt_secret": "s" * 32,
        "jwt_issuer": "idp", "jwt_audience": "staffel", "master_key_file": tmp_path / "k",
        "smtp_host": "relay.example",
    }  # fmt: skip
    with pytest.raises(StartupError) as refused:
        check_production(Settings(**base))
    assert "STAFFEL_PUBLIC_URL" in str(refused.value)
    assert "STAFFEL_MAIL_FROM" in str(refused.value)
    check_production(
        Settings(**base, public_url="https://s.example", mail_from="staffel@s.example")
    )
