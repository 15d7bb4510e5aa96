"""Shared set-up of the documents' tests: reading PDFs back, the PNG artefacts, a
relative with transfers in every state, an account with a ledger."""

import datetime
import io
import re
import uuid
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from pecule import services as pecule_services
from pecule.fournisseurs.base import EtatPaiement
from pecule.models import Virement
from regie import services as regie_services
from regie.models import NatureEcriture
from tests.factories import DetenuFactory
from tests.horloge import DEBUT_JUILLET_PARIS
from tests.pecule.conftest import creer_proche, fournisseur_memoire, permis_pour, situation

__all__ = ["fournisseur_memoire", "situation"]

ARTEFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "documents"


@pytest.fixture(autouse=True)
def _instant_fixe(time_machine):
    """The documents' tests run at 00:30 on 1 July 2026 in Paris (30 June in UTC), the clock ticking
    from there; a test that needs another instant moves the clock again."""
    time_machine.move_to(DEBUT_JUILLET_PARIS)


@pytest.fixture(autouse=True)
def _urls_des_documents(settings):
    settings.ROOT_URLCONF = "tests.documents.urls_test"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def texte_pdf(pdf: bytes) -> str:
    """The PDF's text, spaces normalised (no-break and narrow no-break become spaces)."""
    lecteur = PdfReader(io.BytesIO(pdf))
    texte = "\n".join(page.extract_text() for page in lecteur.pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", texte)


def polices(pdf: bytes) -> set[str]:
    lecteur = PdfReader(io.BytesIO(pdf))
    return {
        str(police.get_object()["/BaseFont"])
        for page in lecteur.pages
        for police in page["/Resources"]["/Font"].values()
    }


def verifier_pdf_ua(pdf: bytes) -> None:
    """Tagged (PDF/UA-1), in French, titled, every glyph in Marianne."""
    catalogue = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert bool(catalogue["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalogue
    assert catalogue["/Lang"] == "fr"
    assert bool(catalogue["/ViewerPreferences"]["/DisplayDocTitle"])
    assert all("Marianne" in police for police in polices(pdf)), polices(pdf)


def normaliser(texte: str) -> str:
    return re.sub(r"[ \u00a0\u202f]+", " ", texte)


def artefact(pdf: bytes, nom: str, pages: int = 1) -> None:
    """Keep the PDF and its first page(s) as PNG under test-artifacts/documents/ for a
    person to look at (PNG only when pypdfium2 is installed)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / f"{nom}.pdf").write_bytes(pdf)
    try:
        import pypdfium2
    except ImportError:  # pragma: no cover - the PDF is kept anyway
        return
    document = pypdfium2.PdfDocument(pdf)
    try:
        for numero in range(min(pages, len(document))):
            image = document[numero].render(scale=1.5).to_pil()
            suffixe = "" if numero == 0 else f"-page{numero + 1}"
            image.save(ARTEFACTS / f"{nom}{suffixe}.png")
    finally:
        document.close()


def etat(statut: str) -> EtatPaiement:
    return EtatPaiement(statut=statut, statut_brut=statut.upper())


def virement(proche, detenu, montant: str, statut: str | None, il_y_a_jours: int) -> Virement:
    """A transfer through the real services, then dated `il_y_a_jours` days ago."""
    v = pecule_services.initier_virement(
        proche=proche,
        detenu=detenu,
        montant=D(montant),
        cle_idempotence=str(uuid.uuid4()),
        url_retour="https://portail.invalid/retour",
    )
    if statut is not None:
        v = pecule_services.appliquer_etat(virement=v, etat=etat(statut), origine="test")
    Virement.objects.filter(pk=v.pk).update(
        cree_le=timezone.now() - datetime.timedelta(days=il_y_a_jours, hours=1)
    )
    v.refresh_from_db()
    return v


@pytest.fixture
def virements_du_proche(situation, fournisseur_memoire):
    """The relative's transfers in every state a relative sees (and two that the
    statement must leave out: one older than six months, one of another relative)."""
    proche, detenu = situation["proche"], situation["detenu"]
    second = DetenuFactory(etablissement=situation["etablissement"], nom="MARTIN", prenoms="Paul")
    permis_pour(proche, second, numero="PV-2")
    liste = [
        virement(proche, detenu, "120.50", "execute", 3),  # crédité
        virement(proche, detenu, "80.00", "execute", 40),  # crédité
        virement(proche, detenu, "45.25", None, 1),  # en attente
        virement(proche, detenu, "30.00", "refuse", 10),
        virement(proche, detenu, "20.00", "annule", 70),
        virement(proche, detenu, "15.00", "expire", 150),
        virement(proche, second, "60.00", "execute", 20),
    ]
    ancien = virement(proche, detenu, "99.00", "execute", 200)
    autre = creer_proche("autre-proche", fc_sub="sub-autre", fc_family_name="LEROY")
    permis_pour(autre, detenu, numero="PV-3")
    etranger = virement(autre, detenu, "11.00", "execute", 5)
    return {
        **situation,
        "second": second,
        "virements": liste,
        "ancien": ancien,
        "autre_proche": autre,
        "etranger": etranger,
    }


JOUR = datetime.date(2025, 3, 10)


def recette(compte, montant, jour, source, nature=NatureEcriture.SALAIRE):
    return regie_services.encaisser_recette(
        compte=compte,
        montant=D(montant),
        nature=nature,
        source=source,
        motif=f"Recette {source}",
        auteur_systeme="test",
        date_operation=jour,
    )


def debit(compte, montant, jour, source, nature=NatureEcriture.CANTINE):
    return regie_services.debiter_part_disponible(
        compte=compte,
        montant=D(montant),
        nature=nature,
        source=source,
        motif=f"Débit {source}",
        auteur_systeme="test",
        date_operation=jour,
    )
