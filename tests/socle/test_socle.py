"""The toolkit: business error, euro formatting, today's date, task publishing."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from celery import shared_task
from django.db import transaction
from kombu.exceptions import OperationalError

from socle import taches
from socle.dates import aujourdhui
from socle.erreurs import ErreurMetier
from socle.exports import cellule_csv
from socle.formats import euros, montant_csv


def test_erreur_metier_porte_message_code_et_details():
    class Refus(ErreurMetier):
        code = "refus"

    erreur = Refus("Solde insuffisant.", disponible=Decimal("3.00"))
    assert str(erreur) == erreur.message == "Solde insuffisant."
    assert erreur.code == "refus"
    assert erreur.details == {"disponible": Decimal("3.00")}
    assert ErreurMetier("Refusé.", "code_precis").code == "code_precis"


@pytest.mark.parametrize(
    ("montant", "attendu"),
    [
        (Decimal("12345.5"), "12\u202f345,50 €"),
        (Decimal("0"), "0,00 €"),
        (None, "0,00 €"),
        (Decimal("-1234567.891"), "-1\u202f234\u202f567,89 €"),
    ],
)
def test_euros(montant, attendu):
    assert euros(montant) == attendu


@pytest.mark.parametrize(
    ("valeur", "attendu"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("\nLF", "'\nLF"),
        ("   =1+1", "'   =1+1"),
        ("＝1+1", "'＝1+1"),
        ("Maison d'arrêt", "Maison d'arrêt"),
        ("", ""),
        (None, ""),
        (Decimal("-20.5"), "-20,50"),
        (-3, "-3"),
        (datetime.date(2026, 7, 1), "01/07/2026"),
    ],
)
def test_cellule_csv_neutralise_tout_texte_mais_garde_les_nombres(valeur, attendu):
    assert cellule_csv(valeur) == attendu


def test_montant_csv():
    assert montant_csv(Decimal("1234.5")) == "1234,50"
    assert montant_csv(Decimal("-3")) == "-3,00"


def test_aujourdhui_est_la_date_de_paris():
    # 23:30 UTC on 31 December is already 1 January in Paris.
    with time_machine.travel(datetime.datetime(2025, 12, 31, 23, 30, tzinfo=datetime.UTC)):
        assert aujourdhui() == datetime.date(2026, 1, 1)


@shared_task(name="tests.socle.noter")
def noter(valeur):
    NOTES.append(valeur)


NOTES: list = []


def test_publier_une_tache_par_objet_ou_par_nom():
    NOTES.clear()
    assert taches.publier(noter, 1) is True
    assert taches.publier("tests.socle.noter", 2) is True
    assert NOTES == [1, 2]


def test_publier_quand_le_courtier_est_en_panne(monkeypatch, caplog):
    def en_panne(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(noter, "apply_async", en_panne)
    assert taches.publier(noter, 3) is False
    assert "left to the periodic sweep" in caplog.text


def test_publier_apres_commit(db, django_capture_on_commit_callbacks):
    NOTES.clear()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        taches.publier_apres_commit("tests.socle.noter", 4)
        assert NOTES == []
    assert NOTES == [4]
