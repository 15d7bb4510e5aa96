"""Issue 13 without a browser: « Confirmer » and the confirmation's own address, what is
still possible this month (the refusals' figures), the estimate of the répartition (the
one rule engine, on the relative's own transfers only), the D.422 expense naming the
relative, the history's marks, a held transfer credited over a cap, « À faire »."""

import re
import uuid
from decimal import Decimal as D

import pytest
from django.urls import reverse

from pecule import selectors, services
from pecule.fournisseurs.base import EtatPaiement
from pecule.models import EvenementVirement, StatutRegie, Virement
from regie import services as regie
from regie.exceptions import PlafondDepasse
from regie.models import ChoixReliquat, NatureEcriture
from regie.plafonds import marges, verifier_plafonds
from regie.repartition import Situation, repartir
from socle.dates import aujourdhui
from tests.factories import agent
from tests.horloge import MI_JUIN

from .conftest import creer_proche

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mi_juin(time_machine):
    """June: the 200 € allowance of an ordinary month."""
    time_machine.move_to(MI_JUIN)


def _recu(detenu, montant, emetteur, source):
    regie.encaisser_recette(
        compte=detenu.compte,
        montant=D(montant),
        nature=NatureEcriture.SUBSIDE_PROCHE,
        source=source,
        motif="Virement",
        auteur_systeme="tests",
        emetteur=emetteur,
    )


def _initier(situation, montant="80.00", proche=None):
    return services.initier_virement(
        proche=proche or situation["proche"],
        detenu=situation["detenu"],
        montant=montant,
        cle_idempotence=str(uuid.uuid4()),
        url_retour="https://portail.invalid/retour",
    )


def _texte(reponse) -> str:
    return re.sub(r"\s+", " ", reponse.content.decode()).replace("&#x27;", "'")


def _visible(reponse) -> str:
    """The text a person reads (tags removed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", _texte(reponse)))


# --- « Confirmer »: what the bank said, then the confirmation's own address ---------------------


def test_confirmer_puis_l_adresse_de_la_confirmation(client, situation, fournisseur_memoire):
    virement = _initier(situation)
    fournisseur_memoire.fixer(virement.id_fournisseur, "execute")
    client.force_login(situation["proche"])
    cle = virement.cle_idempotence
    retour = _texte(client.get(reverse("pecule:retour", args=[cle])))
    assert "Votre banque a validé le virement" in retour
    assert "En cliquant sur « Confirmer », vous terminez votre démarche" in retour
    assert "Crédité sur le compte nominatif" not in retour  # the régie's state comes after

    # GET /confirmer/ before confirming: back to the return page, never a 405.
    assert client.get(reverse("pecule:confirmer", args=[cle]))["Location"] == reverse(
        "pecule:retour", args=[cle]
    )
    reponse = client.post(reverse("pecule:confirmer", args=[cle]))
    assert reponse.status_code == 302
    assert reponse["Location"] == reverse("pecule:virement", args=[cle])
    client.post(reverse("pecule:confirmer", args=[cle]))  # a second click: one record
    assert EvenementVirement.objects.filter(virement=virement, source="confirmation").count() == 1

    page = _texte(client.get(reverse("pecule:virement", args=[cle])))
    assert "Votre virement a bien été confirmé" in page and virement.reference in page
    assert "Je donne mon avis" in page
    # Reopened by any way: the confirmation.
    for url in (reverse("pecule:confirmer", args=[cle]), reverse("pecule:retour", args=[cle])):
        assert client.get(url)["Location"] == reverse("pecule:virement", args=[cle])


def test_confirmation_d_un_virement_refuse_impossible(client, situation, fournisseur_memoire):
    virement = _initier(situation)
    fournisseur_memoire.fixer(virement.id_fournisseur, "refuse")
    client.force_login(situation["proche"])
    cle = virement.cle_idempotence
    reponse = client.post(reverse("pecule:confirmer", args=[cle]), follow=True)
    assert "n'a pas été réalisé : refusé." in _texte(reponse)
    assert not EvenementVirement.objects.filter(virement=virement, source="confirmation").exists()


def test_la_confirmation_d_un_autre_proche_est_introuvable(client, situation, fournisseur_memoire):
    virement = _initier(situation)
    client.force_login(creer_proche("autre", fc_sub="sub-autre"))
    for nom in ("virement", "retour", "confirmer"):
        assert (
            client.get(reverse(f"pecule:{nom}", args=[virement.cle_idempotence])).status_code == 404
        )


# --- What is still possible: the refusal's figures, nothing about the other senders -------------


def test_les_restes_sont_ceux_du_refus(situation, fournisseur_memoire):
    etablissement, detenu, proche = (
        situation["etablissement"],
        situation["detenu"],
        situation["proche"],
    )
    etablissement.plafond_mensuel_par_emetteur = D("250.00")
    etablissement.save()
    _recu(detenu, "120.00", services.emetteur_de(proche), "t:1")
    _recu(detenu, "200.00", "proche:autre", "t:2")
    _initier(situation, "60.00")  # pending: counted too

    restes = selectors.marges_du_mois(proche, detenu)
    assert (restes.reste_detenu, restes.reste_emetteur, restes.maximum) == (
        D("120.00"),
        D("70.00"),
        D("70.00"),
    )
    # The same numbers as the refusals at initiation.
    with pytest.raises(PlafondDepasse) as refus:
        _initier(situation, "100.00")
    assert refus.value.details["reste"] == restes.reste_emetteur
    detenu.etablissement.plafond_mensuel_par_emetteur = None
    detenu.etablissement.save()
    with pytest.raises(PlafondDepasse) as refus:
        verifier_plafonds(
            compte=detenu.compte,
            montant=D("150.00"),
            emetteur=services.emetteur_de(proche),
            jour=aujourdhui(),
            en_attente=D("60.00"),
        )
    restes = marges(
        compte=detenu.compte,
        emetteur=services.emetteur_de(proche),
        jour=aujourdhui(),
        en_attente=D("60.00"),
    )
    assert refus.value.details["reste"] == restes.reste_detenu == D("120.00")
    assert restes.reste_emetteur is None


def test_la_page_montre_les_restes_et_rien_des_autres_proches(client, situation):
    situation["etablissement"].plafond_mensuel_par_emetteur = D("250.00")
    situation["etablissement"].save()
    _recu(situation["detenu"], "137.00", "proche:autre", "t:autre")
    client.force_login(situation["proche"])
    for url in (
        reverse("pecule:detenu", args=[situation["permis"].enregistrements.get().pk]),
        reverse("pecule:alimenter", args=[situation["permis"].enregistrements.get().pk]),
    ):
        page = _texte(client.get(url))
        assert 'data-reste="detenu">363,00' in page.replace("\u202f", "")
        assert 'data-reste="emetteur">250,00' in page.replace("\u202f", "")
        assert "137,00" not in page and "proche:autre" not in page


# --- The estimate of the répartition ----------------------------------------------------------


def test_l_estimation_vient_du_moteur_sur_les_seuls_virements_du_proche(situation):
    detenu, proche = situation["detenu"], situation["proche"]
    _recu(detenu, "150.00", services.emetteur_de(proche), "t:1")
    _recu(detenu, "1000.00", "proche:autre", "t:2")  # another sender: not counted
    regie.encaisser_recette(
        compte=detenu.compte,
        montant=D("500.00"),
        nature=NatureEcriture.SALAIRE,
        source="t:3",
        motif="Salaire",
        auteur_systeme="tests",
    )
    apercu = selectors.apercu_repartition(proche=proche, detenu=detenu, montant=D("250.00"))
    attendu = repartir(
        D("250.00"),
        Situation(
            cumul_mois=D("150.00"),
            mois=6,
            sans_pecule=False,
            solde_parties_civiles=D("0.00"),
            plafond_parties_civiles=False,
        ),
    )
    assert apercu.repartition == attendu
    assert (apercu.parties_civiles, apercu.pecule_liberation, apercu.part_disponible) == (
        D("40.00"),
        D("20.00"),
        D("190.00"),
    )
    assert apercu.deja_ce_mois == D("150.00")


def test_le_fragment_et_le_bouton_estimer(client, situation, fournisseur_memoire):
    pk = situation["permis"].enregistrements.get().pk
    client.force_login(situation["proche"])
    reponse = client.get(reverse("pecule:repartition", args=[pk]), {"montant": "250,00"})
    assert "Répartition estimée de 250,00" in _visible(reponse)
    assert "<html" not in _texte(reponse)
    assert "Saisissez un montant" in _texte(
        client.get(reverse("pecule:repartition", args=[pk]), {"montant": "abc"})
    )
    # « Estimer la répartition » shows the estimate and initiates nothing.
    page = _visible(
        client.post(
            reverse("pecule:alimenter", args=[pk]),
            {"montant": "250", "jeton": str(uuid.uuid4()), "apercu": "1"},
        )
    )
    assert "Répartition estimée de 250,00" in page
    assert not Virement.objects.exists()


# --- D.422: the expense naming the relative ---------------------------------------------------


@pytest.fixture
def depense(situation):
    etablissement = situation["etablissement"]
    autorisation = regie.demander_d422(
        detenu=situation["detenu"],
        montant=D("450.00"),
        objet="Ordinateur pour une formation",
        emetteur_attendu="Angela DUBOIS",
        emetteur_ref=services.emetteur_de(situation["proche"]),
        reliquat=ChoixReliquat.REPARTIR,
        date_demande=aujourdhui(),
        auteur=agent("Régisseur", etablissement),
    )
    return regie.decider_d422(
        autorisation=autorisation,
        accorder=True,
        motif="Formation",
        auteur=agent("Chef d'établissement", etablissement),
    )


def test_la_depense_d422_sur_la_page_et_dans_l_historique(
    client, situation, depense, fournisseur_memoire
):
    pk = situation["permis"].enregistrements.get().pk
    client.force_login(situation["proche"])
    page = _texte(client.get(reverse("pecule:detenu", args=[pk])))
    assert "Ordinateur pour une formation" in page
    assert f"{reverse('pecule:alimenter', args=[pk])}?montant=450.00" in page
    formulaire = client.get(reverse("pecule:alimenter", args=[pk]), {"montant": "450.00"})
    assert 'value="450,00"' in _texte(formulaire)
    assert "réservés à la dépense autorisée (D.422)" in _visible(formulaire)

    virement = _initier(situation, "300.00")
    en_cours = selectors.depense_autorisee(situation["proche"], situation["detenu"])
    assert (en_cours.en_cours, en_cours.reste) == (D("300.00"), D("150.00"))
    services.appliquer_etat(
        virement=virement,
        etat=EtatPaiement(statut="execute", statut_brut="EXECUTED"),
        origine="test",
    )
    virement.refresh_from_db()
    assert virement.ecriture.nature == NatureEcriture.SUBSIDE_D422
    historique = _texte(client.get(reverse("pecule:historique")))
    assert "Dépense autorisée (D.422)" in historique
    recu = selectors.depense_autorisee(situation["proche"], situation["detenu"])
    assert (recu.recu, recu.en_cours, recu.reste) == (D("300.00"), D("0.00"), D("150.00"))


def test_aucune_depense_pour_un_autre_proche(situation, depense):
    autre = creer_proche("autre", fc_sub="sub-autre")
    assert selectors.depense_autorisee(autre, situation["detenu"]) is None


# --- The back-office: a held transfer credited over a cap, « À faire » ------------------------


def test_credit_au_dela_du_plafond_demande_confirmation(client, situation, fournisseur_memoire):
    situation["etablissement"].plafond_mensuel_par_emetteur = D("250.00")
    situation["etablissement"].save()
    _recu(situation["detenu"], "200.00", services.emetteur_de(situation["proche"]), "t:1")
    virement = Virement.objects.create(
        cle_idempotence="t-retenu",
        proche=situation["proche"],
        permis=situation["permis"],
        detenu=situation["detenu"],
        etablissement=situation["etablissement"],
        montant=D("100.00"),
        fournisseur="memoire",
    )
    virement = services.appliquer_etat(
        virement=virement,
        etat=EtatPaiement(statut="execute", statut_brut="EXECUTED"),
        origine="test",
    )
    assert virement.statut_regie == StatutRegie.A_TRAITER

    client.force_login(agent("Régisseur", situation["etablissement"]))
    accueil = _texte(client.get("/admin/"))
    assert "1</strong> virement à traiter" in accueil
    liste = _texte(client.get("/admin/pecule/virement/"))
    assert "Angela Claire Louise DUBOIS" in liste
    url = f"/admin/pecule/virement/{virement.pk}/decision/"
    page = _texte(client.get(url))
    assert "passe outre un plafond" in page and "pour un même proche : 250,00" in page
    donnees = {"jeton": str(uuid.uuid4()), "decision": "crediter", "motif": "Accord du chef"}
    assert "cochez la case" in _texte(client.post(url, donnees))
    virement.refresh_from_db()
    assert virement.statut_regie == StatutRegie.A_TRAITER
    assert client.post(url, {**donnees, "au_dela_du_plafond": "on"}).status_code == 302
    virement.refresh_from_db()
    assert virement.statut_regie == StatutRegie.CREDITE
    etape = virement.evenements.get(source="regisseur")
    assert "au-delà du plafond" in etape.details
    assert "virement à traiter" not in _texte(client.get("/admin/"))
