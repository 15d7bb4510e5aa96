"""Many concurrent receipts and debits on one account, on the real PostgreSQL server.

After the storm: balances equal the sum of the lines, the monthly counter equals the
month's subject receipts, no part is negative, and the split of the month's receipts
equals the split of their total.
"""

import datetime
import multiprocessing
import queue
import random
import threading
from decimal import Decimal as D

import pytest
from django.db import connections

from regie import services
from regie.exceptions import EcritureDejaPassee, PlafondDepasse, SoldeInsuffisant
from regie.models import (
    CompteNominatif,
    CompteurMensuel,
    Ecriture,
    LigneEcriture,
    NatureEcriture,
    Partie,
)
from regie.repartition import Situation, repartir
from regie.selectors import ecarts
from tests.factories import DetenuFactory, EtablissementFactory, agent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

JOUR = datetime.date(2026, 6, 15)


FILS_MAX = 12  # well under PostgreSQL's max_connections, whatever else is connected


def _en_parallele(fonctions):
    """Run the callables on a pool of threads (each its own connection), all started at
    once; return the errors they raised."""
    file = queue.SimpleQueue()
    for fonction in fonctions:
        file.put(fonction)
    nombre = min(FILS_MAX, len(fonctions))
    depart = threading.Barrier(nombre)
    erreurs = []

    def travailler():
        try:
            depart.wait()
            while True:
                try:
                    fonction = file.get_nowait()
                except queue.Empty:
                    return
                try:
                    fonction()
                except Exception as exc:  # collected and asserted by the caller
                    erreurs.append(exc)
        finally:
            connections.close_all()

    fils = [threading.Thread(target=travailler) for _ in range(nombre)]
    for f in fils:
        f.start()
    for f in fils:
        f.join(timeout=120)
    return erreurs


def _verifier_invariants(compte, montants_soumis):
    compte.refresh_from_db()
    assert ecarts(compte) == []
    assert min(compte.parties_civiles, compte.pecule_liberation, compte.part_disponible) >= 0
    total = sum(montants_soumis, D("0.00"))
    compteur = CompteurMensuel.objects.get(compte=compte, annee=JOUR.year, mois=JOUR.month)
    assert compteur.cumul == total
    attendu = repartir(
        total,
        Situation(
            cumul_mois=D("0.00"),
            mois=JOUR.month,
            sans_pecule=False,
            solde_parties_civiles=D("0.00"),
            plafond_parties_civiles=False,
        ),
    )
    lignes = LigneEcriture.objects.filter(ecriture__compte=compte)
    assert sum(lignes.filter(partie=Partie.PARTIES_CIVILES).values_list("montant", flat=True)) == (
        attendu.parties_civiles
    )
    assert (
        sum(lignes.filter(partie=Partie.PECULE_LIBERATION).values_list("montant", flat=True))
        == attendu.pecule_liberation
    )


def test_recettes_et_debits_concurrents_sur_un_compte():
    etablissement = EtablissementFactory()
    regisseur = agent("Régisseur", etablissement)
    compte = DetenuFactory(etablissement=etablissement).compte
    alea = random.Random(2026)
    recettes = [D(alea.randint(100, 30000)) / 100 for _ in range(60)]
    debits = [D(alea.randint(100, 9000)) / 100 for _ in range(40)]

    def recette(i, montant):
        return lambda: services.encaisser_recette(
            compte=compte,
            montant=montant,
            nature=NatureEcriture.SUBSIDE_PROCHE,
            source=f"r:{i}",
            motif="virement",
            auteur=regisseur,
            date_operation=JOUR,
        )

    def debit(i, montant):
        return lambda: services.debiter_part_disponible(
            compte=compte,
            montant=montant,
            nature=NatureEcriture.CANTINE,
            source=f"d:{i}",
            motif="cantine",
            auteur=regisseur,
            date_operation=JOUR,
        )

    travaux = [recette(i, m) for i, m in enumerate(recettes)]
    travaux += [debit(i, m) for i, m in enumerate(debits)]
    alea.shuffle(travaux)
    erreurs = _en_parallele(travaux)
    # Debits may be refused when they arrive before enough money: never anything else.
    assert all(isinstance(e, SoldeInsuffisant) for e in erreurs), erreurs
    assert Ecriture.objects.filter(nature=NatureEcriture.SUBSIDE_PROCHE).count() == 60
    debits_passes = Ecriture.objects.filter(nature=NatureEcriture.CANTINE).count()
    assert debits_passes == 40 - len(erreurs)
    _verifier_invariants(compte, recettes)


def test_meme_virement_credite_une_seule_fois_en_concurrence():
    etablissement = EtablissementFactory()
    compte = DetenuFactory(etablissement=etablissement).compte

    def crediter():
        services.crediter_virement_proche(
            compte=compte,
            montant=D("80.00"),
            source="virement:unique",
            emetteur="proche:1",
            motif="virement",
            auteur_systeme="test",
            date_operation=JOUR,
        )

    erreurs = _en_parallele([crediter] * 12)
    assert len(erreurs) == 11 and all(isinstance(e, EcritureDejaPassee) for e in erreurs)
    compte.refresh_from_db()
    assert compte.part_disponible == D("80.00")
    assert Ecriture.objects.count() == 1


def test_deux_virements_ne_franchissent_pas_ensemble_le_plafond_mensuel():
    etablissement = EtablissementFactory(
        plafond_par_virement=D("300.00"), plafond_mensuel_par_detenu=D("400.00")
    )
    compte = DetenuFactory(etablissement=etablissement).compte

    def crediter(i):
        return lambda: services.crediter_virement_proche(
            compte=compte,
            montant=D("250.00"),
            source=f"virement:{i}",
            emetteur=f"proche:{i}",
            motif="virement",
            auteur_systeme="test",
            date_operation=JOUR,
        )

    erreurs = _en_parallele([crediter(i) for i in range(6)])
    assert len(erreurs) == 5 and all(isinstance(e, PlafondDepasse) for e in erreurs)
    assert Ecriture.objects.filter(compte=compte).count() == 1


def _processus_recettes(compte_id, auteur_id, montants, prefixe):
    """Body of a worker process: its own connection, the full service path."""
    import django

    django.setup()
    from comptes.models import Utilisateur

    connections.close_all()
    compte = CompteNominatif.objects.get(pk=compte_id)
    auteur = Utilisateur.objects.get(pk=auteur_id)
    for i, montant in enumerate(montants):
        services.encaisser_recette(
            compte=compte,
            montant=D(montant),
            nature=NatureEcriture.SALAIRE,
            source=f"{prefixe}:{i}",
            motif="paie",
            auteur=auteur,
            date_operation=JOUR,
        )
    connections.close_all()


def test_recettes_concurrentes_depuis_deux_processus():
    etablissement = EtablissementFactory()
    regisseur = agent("Régisseur", etablissement)
    compte = DetenuFactory(etablissement=etablissement).compte
    alea = random.Random(7)
    lots = [[str(D(alea.randint(100, 20000)) / 100) for _ in range(40)] for _ in range(2)]
    connections.close_all()
    contexte = multiprocessing.get_context("fork")
    processus = [
        contexte.Process(target=_processus_recettes, args=(compte.pk, regisseur.pk, lot, f"p{n}"))
        for n, lot in enumerate(lots)
    ]
    for p in processus:
        p.start()
    for p in processus:
        p.join(timeout=120)
    assert [p.exitcode for p in processus] == [0, 0]
    assert Ecriture.objects.filter(compte=compte).count() == 80
    _verifier_invariants(compte, [D(m) for lot in lots for m in lot])
