"""Every page of the back-office opens for every staff role: each registered ModelAdmin's
list, add form and change form, for a superuser and each role group, answers 200, 302
(a redirection) or 403/404 (not theirs), never 500. The data comes from the demo commands
(every régie and permit situation) plus one row of each table they leave empty."""

import contextlib
import html
import io
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from comptes.models import Utilisateur
from pecule.models import CourrielSortant, NotificationRecue, NotificationRejetee
from regie.models import Etablissement
from tests.horloge import a_paris

pytestmark = pytest.mark.django_db

CODES_ACCEPTES = {200, 302, 403, 404}


@pytest.fixture
def donnees(time_machine):
    time_machine.move_to(a_paris(2026, 6, 15, 10))
    call_command("donnees_demo", "--superutilisateur", verbosity=0)
    call_command("donnees_demo_permis", verbosity=0)
    NotificationRecue.objects.create(
        fournisseur="sandbox", id_evenement=str(uuid.uuid4()), corps='{"a": 1}'
    )
    NotificationRejetee.objects.create(
        fournisseur="sandbox",
        motif="signature_invalide",
        adresse_ip="192.0.2.1",
        periode=a_paris(2026, 6, 15, 10),
        extrait="{}",
    )
    CourrielSortant.objects.create(
        cle="test", destinataire="proche@example.fr", sujet="Sujet", corps="Corps"
    )


def _utilisateurs():
    """The superuser, then one member of each role group attached to an establishment."""
    yield "superutilisateur", Utilisateur.objects.get(username="admin")
    for groupe in Group.objects.order_by("name"):
        membre = groupe.user_set.filter(is_active=True, is_staff=True).first()
        if membre is None:
            membre = Utilisateur.objects.create(
                username=f"role-{groupe.pk}", is_staff=True, fc_sub=None
            )
            membre.groups.add(groupe)
            membre.affectations.create(etablissement=Etablissement.objects.first())
        yield groupe.name, membre


def _adresses(modele):
    prefixe = f"admin:{modele._meta.app_label}_{modele._meta.model_name}"
    objet = modele._default_manager.order_by("pk").first()
    pages = [("liste", "changelist", []), ("ajout", "add", [])]
    if objet is not None:
        pages += [("fiche", "change", [objet.pk]), ("historique", "history", [objet.pk])]
    for page, vue, arguments in pages:
        with contextlib.suppress(NoReverseMatch):
            yield page, reverse(f"{prefixe}_{vue}", args=arguments)


def test_aucune_page_de_l_admin_ne_repond_500(client, donnees):
    client.raise_request_exception = False  # a crash is a 500 to report, not an exception
    erreurs = []
    for role, utilisateur in _utilisateurs():
        client.force_login(utilisateur)
        assert client.get(reverse("admin:index")).status_code == 200, role
        for modele in admin.site._registry:
            for page, adresse in _adresses(modele):
                code = client.get(adresse).status_code
                if code not in CODES_ACCEPTES:
                    erreurs.append(f"{role} · {modele.__name__} · {page} {adresse} → {code}")
        client.logout()
    assert not erreurs, "\n".join(erreurs)


def test_aucune_page_d_un_agent_ne_montre_un_autre_etablissement(client, donnees):
    """Issue 11 item 4, the class: every list, filter, count and object page that staff
    of one establishment open shows nothing of another: neither its name nor one of its
    detainees' écrou numbers."""
    from regie.models import Detenu

    erreurs = []
    for nom_utilisateur, code, autre_code in (
        ("regisseur.fresnes", "FRE", "LYC"),
        ("chef.lyon", "LYC", "FRE"),
    ):
        utilisateur = Utilisateur.objects.get(username=nom_utilisateur)
        autre = Etablissement.objects.get(code=autre_code)
        interdits = [
            autre.nom,
            *Detenu.objects.filter(etablissement=autre).values_list("numero_ecrou", flat=True),
        ]
        client.force_login(utilisateur)
        adresses = [
            reverse("admin:index"),
            reverse("admin:pecule_relevebancaire_rapprochement_choix"),
            reverse("admin:pecule_relevebancaire_importer"),
            reverse("admin:pecule_releveproche_verifier"),
            reverse("admin:permis_permisdevisite_import"),
        ]
        for modele, modele_admin in admin.site._registry.items():
            prefixe = f"admin:{modele._meta.app_label}_{modele._meta.model_name}"
            requete = type("R", (), {"user": utilisateur})()
            if not modele_admin.has_view_or_change_permission(requete):
                continue  # 403: nothing shown
            for vue in ("changelist", "add"):
                with contextlib.suppress(NoReverseMatch):
                    adresses.append(reverse(f"{prefixe}_{vue}"))
            with contextlib.suppress(Exception):
                for objet in modele_admin.get_queryset(requete)[:8]:
                    adresses.append(reverse(f"{prefixe}_change", args=[objet.pk]))
        for adresse in adresses:
            reponse = client.get(adresse)
            if reponse.status_code != 200:
                continue
            page = html.unescape(reponse.content.decode())
            for interdit in interdits:
                if interdit in page:
                    erreurs.append(f"{nom_utilisateur} ({code}) · {adresse} montre « {interdit} »")
    assert not erreurs, "\n".join(erreurs)


# What a person reads on every page: no label without its accents, no internal code, no
# amount with a decimal point, no « PK », no « de » before a vowel (issue 13, item 12).
TEXTES_INTERDITS = [
    r"\bDetenu",
    r"\bEtablissement",
    r"\bdetenu\b",
    r"\betablissement\b",
    r"\b(?:APRES|Apres|DETAILS|Details)\b",
    r"\d\.\d\d\s?€",
    r"\ba_crediter\b|\ba_traiter\b",
    r"\bproche:\d+",
    r"\b(?:Affichage|Modification|Ajout) de [aeiouyéèêhAEIOUYÉÈÊH]",
    r"\bfc-[0-9a-f]{6}",
]
# Technical tables of other packages (django-axes) and the accounts' list, where the
# login is the identifier: superusers only.
PAGES_TECHNIQUES = ("axes", "comptes")


def test_les_pages_de_l_admin_en_francais(client, donnees):
    import re

    call_command("donnees_demo_pecule", verbosity=0, stdout=io.StringIO())
    fautes = []
    for role, utilisateur in _utilisateurs():
        if role not in ("superutilisateur", "Régisseur", "Chef d'établissement"):
            continue
        client.force_login(utilisateur)
        pages = [("accueil", reverse("admin:index"))]
        for modele in admin.site._registry:
            if modele._meta.app_label not in PAGES_TECHNIQUES:
                pages += [
                    (modele.__name__, a)
                    for page, a in _adresses(modele)
                    if page in ("liste", "fiche")
                ]
        for nom, adresse in pages:
            reponse = client.get(adresse)
            if reponse.status_code != 200:
                continue
            contenu = reponse.content.decode()
            if re.search(r">\s*PK\s*<", contenu, re.IGNORECASE):
                fautes.append(f"{role} · {nom} · {adresse} : colonne « PK »")
            texte = re.sub(r"<script.*?</script>|<[^>]*>", " ", contenu, flags=re.S)
            for motif in TEXTES_INTERDITS:
                for trouve in re.findall(rf".{{0,30}}(?:{motif}).{{0,20}}", texte):
                    fautes.append(f"{role} · {nom} · {adresse} : « {trouve.strip()} »")
        client.logout()
    assert not fautes, "\n".join(sorted(set(fautes)))
