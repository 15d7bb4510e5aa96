"""The back-office of visit permits: scoping by establishment (404 elsewhere), changes
through the services, tokens shown once."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from permis import services
from permis.models import (
    ActionPermis,
    EvenementPermis,
    JetonSystemeInformation,
    PermisDeVisite,
    SignalementTransfert,
    StatutPermis,
    TentativeEnregistrement,
)
from permis.roles import ajouter_permissions_permis
from regie.exceptions import DroitsInsuffisants
from regie.models import Etablissement
from tests.factories import DetenuFactory, UtilisateurFactory, agent

from .conftest import permis, proche, regisseur

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.permis.urls_test")]


@pytest.fixture
def monde(etab_a, etab_b):
    return {
        "a": permis(DetenuFactory(etablissement=etab_a), numero="A-1"),
        "b": permis(DetenuFactory(etablissement=etab_b), numero="B-1"),
    }


@pytest.fixture
def client_a(client, etab_a):
    client.force_login(regisseur(etab_a))
    return client


def url(nom, *args):
    return reverse(f"admin:permis_{nom}", args=args)


def test_liste_limitee_a_son_etablissement(client_a, monde):
    reponse = client_a.get(url("permisdevisite_changelist"))
    assert reponse.status_code == 200
    assert list(reponse.context["cl"].queryset) == [monde["a"]]


def test_permis_d_un_autre_etablissement_404(client_a, monde):
    assert client_a.get(url("permisdevisite_change", monde["a"].pk)).status_code == 200
    assert client_a.get(url("permisdevisite_change", monde["b"].pk)).status_code == 404
    assert client_a.get(url("permisdevisite_change", 999999)).status_code == 404
    assert client_a.get(url("permisdevisite_history", monde["b"].pk)).status_code == 404


def test_choix_limites_a_son_etablissement(client_a, etab_a, etab_b):
    DetenuFactory(etablissement=etab_b)
    reponse = client_a.get(url("permisdevisite_add"))
    formulaire = reponse.context["adminform"].form
    assert list(formulaire.fields["etablissement"].queryset) == [etab_a]
    assert set(formulaire.fields["detenu"].queryset.values_list("etablissement", flat=True)) <= {
        etab_a.pk
    }


def donnees_formulaire(detenu, **kw):
    return {
        "etablissement": detenu.etablissement_id,
        "numero": "pv 2026 9",
        "detenu": detenu.pk,
        "titulaire_nom": "Lefèvre",
        "titulaire_prenoms": "Héloïse",
        "titulaire_date_naissance": "02/04/1985",
        "lien": "",
        "date_debut": "01/01/2026",
        "date_fin": "",
        "statut": StatutPermis.ACTIF,
        "motif_statut": "",
        "enregistrements-TOTAL_FORMS": "0",
        "enregistrements-INITIAL_FORMS": "0",
        "evenements-TOTAL_FORMS": "0",
        "evenements-INITIAL_FORMS": "0",
        **kw,
    }


def test_creation_et_modification_par_le_service(client_a, etab_a):
    detenu = DetenuFactory(etablissement=etab_a)
    reponse = client_a.post(url("permisdevisite_add"), donnees_formulaire(detenu))
    assert reponse.status_code == 302, reponse.context["adminform"].form.errors
    cree = PermisDeVisite.objects.get()
    assert cree.numero == "PV20269"
    reponse = client_a.post(
        url("permisdevisite_change", cree.pk),
        donnees_formulaire(detenu, statut=StatutPermis.SUSPENDU, motif_statut="Enquête"),
    )
    assert reponse.status_code == 302
    cree.refresh_from_db()
    assert cree.statut == StatutPermis.SUSPENDU
    evenements = EvenementPermis.objects.filter(permis=cree)
    assert [e.action for e in evenements] == [ActionPermis.CREATION, ActionPermis.SUSPENSION]
    assert all(e.auteur.username == reponse.wsgi_request.user.username for e in evenements)


def test_detenu_d_un_autre_etablissement_refuse(client_a, etab_b):
    autre = DetenuFactory(etablissement=etab_b)
    reponse = client_a.post(url("permisdevisite_add"), donnees_formulaire(autre))
    assert reponse.status_code == 200
    assert "detenu" in reponse.context["adminform"].form.errors
    assert not PermisDeVisite.objects.exists()


def test_retrait_definitif_dans_l_admin(client_a, monde):
    services.retirer_permis(permis=monde["a"])
    reponse = client_a.post(
        url("permisdevisite_changelist"),
        {"action": "reactiver", "_selected_action": [monde["a"].pk]},
        follow=True,
    )
    assert "a été retiré" in reponse.content.decode()
    monde["a"].refresh_from_db()
    assert monde["a"].statut == StatutPermis.RETIRE


def test_action_suspendre_limitee_au_perimetre(client_a, monde):
    client_a.post(
        url("permisdevisite_changelist"),
        {"action": "suspendre", "_selected_action": [monde["a"].pk, monde["b"].pk]},
    )
    statuts = dict(PermisDeVisite.objects.values_list("numero", "statut"))
    assert statuts == {"A-1": StatutPermis.SUSPENDU, "B-1": StatutPermis.ACTIF}


def test_pas_de_suppression(client_a, monde):
    assert client_a.get(url("permisdevisite_delete", monde["a"].pk)).status_code == 403


def test_enregistrements_en_lecture_seule_et_limites(client_a, monde, etab_a):
    for cle in ("a", "b"):
        services.enregistrer_permis(
            proche=proche(),
            numero=monde[cle].numero,
            etablissement=monde[cle].etablissement,
            numero_ecrou=monde[cle].detenu.numero_ecrou,
            adresse_ip="192.0.2.1",
            jour=datetime.date(2026, 3, 10),
        )
    reponse = client_a.get(url("permisenregistre_changelist"))
    assert [e.permis for e in reponse.context["cl"].queryset] == [monde["a"]]
    autre = monde["b"].enregistrements.get()
    assert client_a.get(url("permisenregistre_change", autre.pk)).status_code == 404
    assert client_a.get(url("permisenregistre_add")).status_code == 403


# --- Tokens --------------------------------------------------------------------------------


def test_jeton_cree_et_montre_une_fois(client, etab_a):
    admin = UtilisateurFactory(is_superuser=True)
    client.force_login(admin)
    reponse = client.post(
        url("jetonsystemeinformation_add"), {"etablissement": etab_a.pk, "nom": "GENESIS"}
    )
    assert reponse.status_code == 200
    assert "no-store" in reponse["Cache-Control"]
    clair = reponse.context["jeton_clair"]
    assert clair.startswith(services.PREFIXE_JETON) and clair in reponse.content.decode()
    jeton = JetonSystemeInformation.objects.get()
    assert jeton.cle_hash == services.empreinte_jeton(clair)
    assert clair not in str(JetonSystemeInformation.objects.values().get())
    # Never shown again.
    page = client.get(url("jetonsystemeinformation_change", jeton.pk)).content.decode()
    assert clair not in page and jeton.prefixe in page


def test_jetons_reserves_aux_superutilisateurs(client_a, etab_a):
    assert client_a.get(url("jetonsystemeinformation_changelist")).status_code == 403
    assert client_a.get(url("jetonsystemeinformation_add")).status_code == 403


def test_tentatives_et_signalements_limites(client, etab_a, etab_b, monde):
    for etablissement in (etab_a, etab_b):
        TentativeEnregistrement.objects.create(
            proche=proche(),
            adresse_ip="192.0.2.1",
            cle_adresse="192.0.2.1",
            succes=False,
            motif="permis_introuvable",
            etablissement=etablissement,
        )
    etab_c = Etablissement.objects.create(
        code="C", nom="C", regie_titulaire="C", regie_iban="FR7630006000011234567890189"
    )
    for origine, destination in ((etab_a, etab_b), (etab_b, etab_c)):
        SignalementTransfert.objects.create(
            detenu=DetenuFactory(etablissement=origine),
            etablissement_origine=origine,
            etablissement_destination=destination,
            nouveau_numero_ecrou="N",
        )
    chef_b = agent("Chef d'établissement", etab_b)
    ajouter_permissions_permis(Group, Permission)
    client.force_login(chef_b)
    reponse = client.get(url("tentativeenregistrement_changelist"))
    assert [t.etablissement for t in reponse.context["cl"].queryset] == [etab_b]
    reponse = client.get(url("signalementtransfert_changelist"))
    assert reponse.context["cl"].queryset.count() == 2  # origin or destination
    client.force_login(regisseur(etab_a))
    assert client.get(url("tentativeenregistrement_changelist")).status_code == 403
    reponse = client.get(url("signalementtransfert_changelist"))
    assert reponse.context["cl"].queryset.count() == 1


def test_services_verifient_les_droits(etab_a, etab_b, monde):
    with pytest.raises(DroitsInsuffisants):
        services.suspendre_permis(permis=monde["a"], auteur=regisseur(etab_b))
    jeton_b, _clair = services.creer_jeton(
        etablissement=etab_b, nom="SI", auteur=UtilisateurFactory(is_superuser=True)
    )
    with pytest.raises(DroitsInsuffisants):
        services.retirer_permis(permis=monde["a"], jeton=jeton_b)
    monde["a"].refresh_from_db()
    assert monde["a"].statut == StatutPermis.ACTIF
