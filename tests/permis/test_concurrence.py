"""Concurrent attempts cannot slip under the rate limits (real PostgreSQL server)."""

import threading

import pytest
from django.db import connections

from permis import services
from permis.exceptions import PermisRefuse, TropDeTentatives
from permis.models import MotifTentative, TentativeEnregistrement

from .conftest import proche

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TENTATIVES = 8


def _en_parallele(fonctions):
    depart = threading.Barrier(len(fonctions))
    resultats = []

    def executer(fonction):
        try:
            depart.wait()
            fonction()
            resultats.append(None)
        except Exception as exc:  # collected and asserted by the caller
            resultats.append(exc)
        finally:
            connections.close_all()

    fils = [threading.Thread(target=executer, args=(f,)) for f in fonctions]
    for f in fils:
        f.start()
    for f in fils:
        f.join(timeout=120)
    return resultats


@pytest.mark.parametrize("meme_proche", [True, False], ids=["même proche", "même adresse"])
def test_tentatives_simultanees(settings, permis_a, meme_proche):
    settings.PERMIS_LIMITE_ECHECS_PAR_ADRESSE = services.LIMITE_ECHECS_PAR_PROCHE
    qui = proche()
    # The same relative from different addresses, or different relatives from one address.
    essais = [
        (qui, f"192.0.2.{10 + i}") if meme_proche else (proche(), "192.0.2.10")
        for i in range(TENTATIVES)
    ]

    def essai(p, ip):
        return lambda: services.enregistrer_permis(
            proche=p,
            numero="FAUX",
            etablissement=permis_a.etablissement,
            numero_ecrou="12345",
            adresse_ip=ip,
        )

    resultats = _en_parallele([essai(p, ip) for p, ip in essais])
    assert len(resultats) == TENTATIVES
    assert all(isinstance(r, PermisRefuse) for r in resultats)
    bloques = [r for r in resultats if isinstance(r, TropDeTentatives)]
    assert len(bloques) == TENTATIVES - services.LIMITE_ECHECS_PAR_PROCHE
    assert (
        TentativeEnregistrement.objects.filter(motif=MotifTentative.PERMIS_INTROUVABLE).count()
        == services.LIMITE_ECHECS_PAR_PROCHE
    )
