"""Imports racing on the real PostgreSQL server: the same file sent four times at once,
and overlapping statements imported together, give one statement and one proof per
transfer."""

import threading

import pytest
from django.db import connections

from pecule.models import EvenementVirement, LigneReleve, ReleveBancaire, StatutRapprochement
from pecule.rapprochement import services
from tests.factories import EtablissementFactory
from tests.pecule.rapprochement import fabriques
from tests.pecule.rapprochement.camt_factory import credit, releve_camt053

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _ensemble(fonctions):
    """Run the callables at once, each on its own thread and connection; return what
    they raised."""
    depart = threading.Barrier(len(fonctions))
    erreurs = []

    def travailler(fonction):
        try:
            depart.wait()
            fonction()
        except Exception as exc:  # collected and asserted by the caller
            erreurs.append(exc)
        finally:
            connections.close_all()

    fils = [threading.Thread(target=travailler, args=(f,)) for f in fonctions]
    for f in fils:
        f.start()
    for f in fils:
        f.join(timeout=120)
    return erreurs


@pytest.fixture
def etab():
    return EtablissementFactory(code="RC", regie_iban="FR7630006000011234567890189")


def test_meme_fichier_envoye_quatre_fois_en_meme_temps(etab):
    virement = fabriques.virement(etab, "50.00")
    contenu = releve_camt053(
        iban=etab.regie_iban, ecritures=[credit("50.00", e2e=virement.reference)]
    )

    def importer():
        services.importer_releve(etablissement=etab, fichier=contenu, auteur=None)

    erreurs = _ensemble([importer] * 4)
    assert len(erreurs) == 3
    assert all(isinstance(e, services.ReleveDejaImporte) for e in erreurs)
    assert ReleveBancaire.objects.count() == 1
    assert LigneReleve.objects.count() == 1
    assert EvenementVirement.objects.filter(virement=virement).count() == 1


def test_releves_qui_se_chevauchent_importes_ensemble(etab):
    virements = [fabriques.virement(etab, "10.00") for _ in range(3)]
    fichiers = [
        releve_camt053(
            iban=etab.regie_iban,
            identifiant=f"STMT-{n}",
            ecritures=[
                credit("10.00", e2e=v.reference, reference=f"BQ-{v.reference}") for v in virements
            ],
        )
        for n in range(3)
    ]
    erreurs = _ensemble(
        [
            lambda contenu=contenu: services.importer_releve(
                etablissement=etab, fichier=contenu, auteur=None
            )
            for contenu in fichiers
        ]
    )
    assert erreurs == []
    assert ReleveBancaire.objects.count() == 3
    for virement in virements:
        lignes = LigneReleve.objects.filter(reference_banque=f"BQ-{virement.reference}")
        assert lignes.count() == 3
        assert lignes.filter(statut_rapprochement=StatutRapprochement.RAPPROCHEE).count() == 1
        assert lignes.filter(doublon_de__isnull=False).count() == 2
        assert EvenementVirement.objects.filter(virement=virement).count() == 1
