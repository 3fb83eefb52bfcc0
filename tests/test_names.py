"""Names that cannot impersonate or collide (issue 16): stored names are NFC without invisible
characters, a name that would pass for an existing initiative is refused showing that one, and
metric keys keep non-Latin letters."""

import pytest
from sqlalchemy import select

from conftest import EDITOR
from liftoff import ingest, names
from liftoff.db.models import Initiative
from liftoff.errors import InvalidValue
from liftoff.evidence import writes
from liftoff.ingest.columns import metric_key

CHURN = "Churn early-warning"


@pytest.mark.parametrize(
    "written",
    [
        " Churn early-warning ",
        "Churn early\u200b-warning",  # zero-width space
        "Churn early-warning\u202e",  # right-to-left override
        "\ufeffChurn early-warning",  # a byte order mark in the middle of a file
        "Churn\u00a0 early-warning",
        "Churn early-warning\x07",
    ],
)
def test_clean_names_drop_what_cannot_be_seen(written):
    assert names.clean(written) == CHURN


def test_clean_names_are_nfc():
    assert names.clean("Cafe\u0301") == "Caf\u00e9"


def test_a_new_initiative_that_looks_like_an_existing_one_is_refused_showing_it(demo_engine):
    for lookalike in ("\u0421hurn early-warning", "Churn ear1y-warning", "Chum early-warning"):
        with pytest.raises(
            InvalidValue, match="looks like the existing initiative 'Churn early-warning'"
        ):
            writes.set_initiative(demo_engine, EDITOR, lookalike, create=True)
    with pytest.raises(InvalidValue, match="Cyrillic capital letter es"):
        writes.set_initiative(demo_engine, EDITOR, "\u0421hurn early-warning", create=True)
    # Invisible characters are dropped, so the same name is the existing initiative.
    writes.set_initiative(demo_engine, EDITOR, "Churn early-warning\u200b", create=True)
    with demo_engine.connect() as conn:
        stored = conn.execute(select(Initiative.name)).scalars().all()
    assert sum(1 for n in stored if names.fold(n) == names.fold(CHURN)) == 1
    assert "Fraud shield" in writes.set_initiative(demo_engine, EDITOR, "Fraud shield", create=True)


def test_metric_keys_keep_other_scripts_and_drop_latin_accents():
    assert metric_key("Точность") == "точность"
    assert metric_key("精度 (%)") == "精度"
    assert metric_key("Coût par requête") == "cout_par_requete"
    assert len({metric_key(n) for n in ("Точность", "Полнота", "精度", "再現率")}) == 4


def test_two_names_of_one_key_in_a_file_are_listed_in_a_warning(demo_engine):
    data = (
        "initiative,iteration,metric,value\n"
        f"{CHURN},1,Recall rate,0.8\n{CHURN},1,recall-rate,0.7\n{CHURN},1,Recall rate (%),81%\n"
    ).encode()
    prepared = ingest.prepare(demo_engine, data, "m.csv")
    assert prepared.ok
    assert "'Recall rate' and 'recall-rate' are read as one metric, recall_rate." in " ".join(
        prepared.warnings
    )
