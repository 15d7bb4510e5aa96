"""The renderer: tagged PDF (PDF/UA-1) in French with a title, Marianne only, no network,
the same bytes for the same data and issue date."""

import datetime
import io
from decimal import Decimal as D

import pytest
import weasyprint
from django.utils import timezone
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from regie import documents
from regie import services as regie_services
from regie.models import ChoixReliquat
from socle import pdf
from tests.factories import DetenuFactory, EtablissementFactory, agent

from .conftest import recette

pytestmark = pytest.mark.django_db

EMIS_LE = datetime.datetime(2025, 6, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def pdfs():
    etablissement = EtablissementFactory()
    detenu = DetenuFactory(etablissement=etablissement)
    recette(detenu.compte, "321.00", datetime.date(2025, 5, 2), "rendu-1")
    autorisation = regie_services.demander_d422(
        detenu=detenu,
        montant=D("80.00"),
        objet="Ordinateur pour une formation",
        emetteur_attendu="Son père",
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=datetime.date(2025, 5, 3),
        auteur=agent("Régisseur", etablissement),
    )
    debut, fin = datetime.date(2025, 5, 1), datetime.date(2025, 5, 31)
    return {
        "releve_compte": lambda: documents.releve_compte(
            detenu.compte, debut, fin, emis_le=EMIS_LE
        ),
        "demande_d422": lambda: documents.formulaire_demande_d422(autorisation, emis_le=EMIS_LE),
        "decision_d422": lambda: documents.formulaire_decision_d422(autorisation, emis_le=EMIS_LE),
    }


@pytest.mark.parametrize("nom", ["releve_compte", "demande_d422", "decision_d422"])
def test_pdf_ua_francais_marianne_deterministe(pdfs, nom):
    pdf = pdfs[nom]()
    assert pdfs[nom]() == pdf  # same data, same issue date: same bytes

    lecteur = PdfReader(io.BytesIO(pdf))
    catalogue = lecteur.trailer["/Root"]
    assert bool(catalogue["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalogue
    assert catalogue["/Lang"] == "fr"
    assert bool(catalogue["/ViewerPreferences"]["/DisplayDocTitle"])
    assert lecteur.metadata.title
    assert lecteur.metadata["/CreationDate"] == "D:20250601100000Z"
    xmp = catalogue["/Metadata"].get_object().get_data()
    assert b'pdfuaid:part="1"' in xmp or b"<pdfuaid:part>1</pdfuaid:part>" in xmp
    # Headings and tables are tagged.
    arbre = catalogue["/StructTreeRoot"].get_object()
    types = set()

    def parcourir(element, profondeur=0):
        element = element.get_object()
        if isinstance(element, dict) or hasattr(element, "get"):
            if "/S" in element:
                types.add(element["/S"])
            enfants = element.get("/K")
            if enfants is not None and profondeur < 40:
                for enfant in enfants if isinstance(enfants, list) else [enfants]:
                    if hasattr(enfant, "get_object"):
                        parcourir(enfant, profondeur + 1)

    parcourir(arbre)
    assert "/H1" in types and "/P" in types
    if nom != "demande_d422":
        assert {"/Table", "/TH", "/TD"} <= types

    # Every font is a Marianne subset: nothing fell back on the machine's fonts.
    polices = set()
    for page in lecteur.pages:
        for police in page["/Resources"]["/Font"].values():
            polices.add(str(police.get_object()["/BaseFont"]))
    assert polices and all("Marianne" in police for police in polices), polices


def test_date_d_emission_seule_difference(pdfs):
    assert documents.releve_compte is not None
    premier = pdfs["demande_d422"]()
    autre = documents.formulaire_demande_d422(
        documents.AutorisationD422.objects.get(), emis_le=EMIS_LE + datetime.timedelta(hours=1)
    )
    assert premier != autre


def test_aucun_acces_reseau():
    recuperateur = pdf.recuperateur_local()
    for url in (
        "https://www.systeme-de-design.gouv.fr/logo.svg",
        "http://127.0.0.1:9/x.css",
        "ftp://example.invalid/a",
    ):
        with pytest.raises((PermissionError, ValueError)):
            recuperateur.fetch(url)
    with pytest.raises(PermissionError, match="hors des dossiers"):
        recuperateur.fetch("file:///etc/passwd")
    police = recuperateur.fetch(pdf.police("Marianne-Bold"))
    assert police.read(4) == b"wOF2"
    # In a document, a network resource stops the rendering instead of being fetched.
    html = weasyprint.HTML(
        string='<html lang="fr"><body><img src="https://example.invalid/a.png" alt="x"></body></html>',
        url_fetcher=recuperateur,
    )
    with pytest.raises(FatalURLFetchingError):
        html.write_pdf()


def test_rendre_pdf_refuse_une_ressource_distante(settings, tmp_path):
    dossier = tmp_path / "gabarits"
    (dossier / "documents").mkdir(parents=True)
    (dossier / "documents" / "distant.html").write_text(
        '{% extends "documents/base.html" %}{% block contenu %}'
        '<h1>Test</h1><img src="https://example.invalid/a.png" alt="image distante">'
        "{% endblock %}",
        encoding="utf-8",
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [dossier, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    with pytest.raises(pdf.DocumentImpossible, match="aucun accès réseau"):
        pdf.rendre_pdf("documents/distant.html", {}, titre="Test", emis_le=timezone.now())
