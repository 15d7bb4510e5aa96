"""The relative's six-month statement: requested from the history, rendered by the task,
shown as ready, downloaded by that relative only, checked against the transfers, found
by its verification code in the back-office, deleted after the retention period."""

import datetime
import hashlib
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from pecule.models import EtatProche, ReleveProche, StatutReleve, Virement
from pecule.releves import services, tasks
from socle.formats import euros
from tests.factories import UtilisateurFactory, agent

from .conftest import artefact, normaliser, texte_pdf, verifier_pdf_ua

pytestmark = pytest.mark.django_db

REFERENCE = re.compile(r"PEC-[A-Z0-9]{4}-[A-Z0-9]{4}")


def lignes_par_reference(texte: str) -> dict[str, str]:
    """Each transfer's row of the PDF: the text from the date before its reference to
    the next row's date (a row spans lines in the extracted text)."""
    tableau = texte.split("Totaux", 1)[0]
    debuts = [m.start() for m in re.finditer(r"\d\d/\d\d/\d{4} \d\d:\d\d PEC-", tableau)]
    lignes = {}
    for debut, fin in zip(debuts, [*debuts[1:], len(tableau)], strict=True):
        morceau = tableau[debut:fin]
        # Text extraction may put a break inside a reference that the PDF shows whole.
        reference = REFERENCE.search("".join(morceau.split()))
        assert reference, f"no reference in the row {morceau!r}"
        lignes[reference[0]] = " ".join(morceau.split())
    return lignes


def demander(client, proche, capture, detenu=None):
    client.force_login(proche)
    with capture(execute=True):
        reponse = client.post(reverse("releves:demander"), {"detenu": detenu.pk if detenu else ""})
    assert reponse.status_code == 302
    return ReleveProche.objects.filter(proche=proche).latest("demande_le", "pk")


def telecharger(client, releve) -> bytes:
    reponse = client.get(reverse("releves:telecharger", args=[releve.pk]))
    assert reponse.status_code == 200
    assert reponse["Content-Type"] == "application/pdf"
    assert reponse["Content-Disposition"].startswith('attachment; filename="releve-virements-')
    assert "no-store" in reponse["Cache-Control"]
    return b"".join(reponse.streaming_content)


def test_demande_production_et_telechargement(
    client, virements_du_proche, django_capture_on_commit_callbacks
):
    monde = virements_du_proche
    proche = monde["proche"]
    releve = demander(client, proche, django_capture_on_commit_callbacks)

    # The task ran (eager): the statement is ready, and the page and the status say so.
    assert releve.statut == StatutReleve.PRET
    page = client.get(reverse("releves:index"))
    assert f'id="releve-{releve.pk}"' in page.content.decode()
    assert reverse("releves:telecharger", args=[releve.pk]) in page.content.decode()
    statut = client.get(reverse("releves:statut", args=[releve.pk])).json()
    assert statut["statut"] == "pret"
    assert statut["url"] == reverse("releves:telecharger", args=[releve.pk])

    pdf = telecharger(client, releve)
    assert hashlib.sha256(pdf).hexdigest() == releve.empreinte_fichier
    assert releve.fichier.name.startswith(f"releves/{proche.pk}/")
    artefact(pdf, "releve-proche")
    verifier_pdf_ua(pdf)
    texte = texte_pdf(pdf)

    # Identity, period, issue date, code.
    assert "Angela Claire Louise DUBOIS" in texte
    assert "né(e) le 24/08/1962" in texte
    debut, fin = timezone.localtime(releve.debut), timezone.localtime(releve.fin)
    assert f"Période du {debut:%d/%m/%Y} au {fin:%d/%m/%Y}" in texte
    assert f"émis le {timezone.localtime(releve.pret_le):%d/%m/%Y à %H:%M}" in texte
    assert releve.code_court in texte
    assert len(releve.code_verification) == 64

    # Every transfer of the six months, with its reference, amount and state; no other.
    attendus = monde["virements"]
    lignes = lignes_par_reference(texte)
    assert set(lignes) == {v.reference for v in attendus}
    for v in attendus:
        assert normaliser(euros(v.montant)) in lignes[v.reference]
        assert v.etat_proche.label in lignes[v.reference]
        assert f"{timezone.localtime(v.cree_le):%d/%m/%Y %H:%M}" in lignes[v.reference]
        assert f"{v.detenu.prenoms} {v.detenu.nom}" in lignes[v.reference]
    assert monde["ancien"].reference not in texte
    assert monde["etranger"].reference not in texte
    assert {v.etat_proche for v in attendus} >= {
        EtatProche.CREDITE,
        EtatProche.EN_ATTENTE,
        EtatProche.REFUSE,
        EtatProche.ANNULE,
        EtatProche.EXPIRE,
    }

    # One total per meaning: what the bank sent, what was credited; refused, cancelled,
    # expired and pending transfers are in neither, and never added to them.
    envoyes = [
        v
        for v in attendus
        if v.etat_proche in (EtatProche.CONFIRME, EtatProche.CREDITE, EtatProche.RETOURNE)
    ]
    credites = [v for v in attendus if v.etat_proche == EtatProche.CREDITE]
    envoye = sum(v.montant for v in envoyes)
    credite = sum(v.montant for v in credites)
    assert envoye < sum(v.montant for v in attendus)
    assert f"Envoyé par votre banque {len(envoyes)} {normaliser(euros(envoye))}" in texte
    assert f"Crédité sur le compte nominatif {len(credites)} {normaliser(euros(credite))}" in texte
    assert "Total des virements listés" not in texte
    for etat_proche in {v.etat_proche for v in attendus}:
        du_etat = [v for v in attendus if v.etat_proche == etat_proche]
        somme = normaliser(euros(sum(v.montant for v in du_etat)))
        assert f"{etat_proche.label} {len(du_etat)} {somme}" in texte
    assert releve.nombre_virements == len(attendus) and releve.total == envoye


def test_releve_pour_une_seule_personne(
    client, virements_du_proche, django_capture_on_commit_callbacks
):
    monde = virements_du_proche
    releve = demander(
        client, monde["proche"], django_capture_on_commit_callbacks, detenu=monde["second"]
    )
    texte = texte_pdf(telecharger(client, releve))
    assert "Virements à Paul MARTIN" in texte
    assert set(REFERENCE.findall("".join(texte.split()))) == {
        v.reference for v in monde["virements"] if v.detenu_id == monde["second"].pk
    }


def test_seul_le_proche_qui_l_a_demande_y_accede(
    client, virements_du_proche, django_capture_on_commit_callbacks
):
    monde = virements_du_proche
    releve = demander(client, monde["proche"], django_capture_on_commit_callbacks)
    urls = [
        reverse("releves:statut", args=[releve.pk]),
        reverse("releves:telecharger", args=[releve.pk]),
    ]
    client.force_login(monde["autre_proche"])
    for url in urls:
        assert client.get(url).status_code == 404
    assert f"releve-{releve.pk}" not in client.get(reverse("releves:index")).content.decode()
    client.logout()
    for url in urls:
        reponse = client.get(url)
        assert reponse.status_code == 302
        assert reponse["Location"] == reverse("portail:accueil_public")
    # A staff account is not a relative either.
    client.force_login(UtilisateurFactory(is_superuser=True))
    for url in urls:
        assert client.get(url).status_code == 302
    # A missing statement is a 404 too; the file has no public media URL.
    client.force_login(monde["proche"])
    assert client.get(reverse("releves:telecharger", args=[releve.pk + 999])).status_code == 404


def test_un_second_clic_reutilise_le_releve(
    client, virements_du_proche, django_capture_on_commit_callbacks
):
    monde = virements_du_proche
    premier = demander(client, monde["proche"], django_capture_on_commit_callbacks)
    second = demander(client, monde["proche"], django_capture_on_commit_callbacks)
    assert premier.pk == second.pk
    assert ReleveProche.objects.count() == 1
    # Another scope is another statement.
    demander(client, monde["proche"], django_capture_on_commit_callbacks, detenu=monde["second"])
    assert ReleveProche.objects.count() == 2
    # A transfer changed since: the next click makes a fresh statement.
    Virement.objects.filter(pk=monde["virements"][2].pk).update(
        maj_le=timezone.now() + datetime.timedelta(seconds=1)
    )
    troisieme = demander(client, monde["proche"], django_capture_on_commit_callbacks)
    assert troisieme.pk not in (premier.pk, second.pk)


def test_page_en_preparation_sans_javascript(client, virements_du_proche):
    """Before the task ran: « en préparation », the script that polls, the « Actualiser »
    link; the status endpoint answers « demande »."""
    monde = virements_du_proche
    releve = services.demander_releve(proche=monde["proche"])  # on_commit not run
    client.force_login(monde["proche"])
    page = client.get(reverse("releves:index")).content.decode()
    assert "Votre relevé est en préparation." in page
    assert "data-releve-actualiser" in page and "Actualiser</a>" in page
    assert re.search(r'<script src="[^"]*portail/releve\.js" nonce="[^"]+" defer>', page)
    assert client.get(reverse("releves:statut", args=[releve.pk])).json()["statut"] == "demande"
    assert client.get(reverse("releves:telecharger", args=[releve.pk])).status_code == 404
    tasks.produire_releve.delay(releve.pk)
    assert client.get(reverse("releves:statut", args=[releve.pk])).json()["statut"] == "pret"


def test_tache_idempotente_et_sans_effet_sur_un_releve_pret(virements_du_proche):
    releve = services.demander_releve(proche=virements_du_proche["proche"])
    tasks.produire_releve.delay(releve.pk)
    releve.refresh_from_db()
    fichier, code = releve.fichier.name, releve.code_verification
    tasks.produire_releve.delay(releve.pk)  # delivered again (acks_late)
    releve.refresh_from_db()
    assert (releve.fichier.name, releve.code_verification) == (fichier, code)
    assert tasks.produire_releve.delay(releve.pk + 999).get() is None


def test_meme_donnees_memes_octets(virements_du_proche):
    releve = services.demander_releve(proche=virements_du_proche["proche"])
    donnees = services.donnees_releve(releve)
    emis_le = timezone.make_aware(datetime.datetime(2025, 6, 1, 9, 30))
    premier = services.pdf_releve(donnees, emis_le=emis_le)
    second = services.pdf_releve(services.donnees_releve(releve), emis_le=emis_le)
    assert premier == second
    plus_tard = services.pdf_releve(donnees, emis_le=emis_le + datetime.timedelta(days=1))
    assert plus_tard != premier
    # The code does not depend on the issue date.
    assert services.code_verification(donnees) == services.code_verification(
        services.donnees_releve(releve)
    )


def test_historique_html_et_pdf_listent_les_memes_virements(
    client, virements_du_proche, django_capture_on_commit_callbacks
):
    monde = virements_du_proche
    releve = demander(client, monde["proche"], django_capture_on_commit_callbacks)
    html = client.get(reverse("pecule:historique")).content.decode()
    # The page shows the same transfers twice: a table, and a list for phones.
    tableau = html.split('id="historique-tableau"', 1)[1].split("</table>", 1)[0]
    liste = html.split('id="historique-liste"', 1)[1].split("</ul>", 1)[0]
    assert REFERENCE.findall(tableau) == REFERENCE.findall(liste)[::2]
    # pypdf rebuilds spaces from glyph positions and may put one inside a reference.
    pdf = "".join(texte_pdf(telecharger(client, releve)).split())
    assert REFERENCE.findall(tableau) == REFERENCE.findall(pdf)
    assert REFERENCE.findall(pdf) == [
        v.reference
        for v in services.virements_des_six_derniers_mois(monde["proche"], fin=releve.fin)
    ]


def test_code_verifie_dans_l_administration(
    client, virements_du_proche, django_capture_on_commit_callbacks
):
    monde = virements_du_proche
    releve = demander(client, monde["proche"], django_capture_on_commit_callbacks)
    pdf = telecharger(client, releve)
    code_imprime = re.search(r"Code de vérification : ([0-9A-F-]{19})", texte_pdf(pdf))[1]
    assert code_imprime == releve.code_court

    regisseur = agent("Régisseur", monde["etablissement"])
    client.force_login(regisseur)
    liste = client.get(reverse("admin:pecule_releveproche_changelist"), {"q": code_imprime.lower()})
    assert liste.status_code == 200
    assert list(liste.context["cl"].result_list) == [releve]

    url = reverse("admin:pecule_releveproche_verifier")
    reponse = client.post(url, {"code": code_imprime})
    assert "Code reconnu" in reponse.content.decode()
    assert "Angela Claire Louise DUBOIS" in reponse.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    reponse = client.post(
        url,
        {"code": code_imprime, "fichier": SimpleUploadedFile("r.pdf", pdf, "application/pdf")},
    )
    assert "Le fichier fourni est identique au relevé émis." in reponse.content.decode()
    falsifie = SimpleUploadedFile("r.pdf", pdf.replace(b"%%EOF", b"%%EOF "), "application/pdf")
    reponse = client.post(url, {"code": code_imprime, "fichier": falsifie})
    assert "n'est pas celui que le portail a émis" in reponse.content.decode()
    reponse = client.post(url, {"code": "0000-0000-0000-0000"})
    assert "Aucun relevé ne porte ce code" in reponse.content.decode()
    # The change page lists the statement's transfers.
    page = client.get(reverse("admin:pecule_releveproche_change", args=[releve.pk]))
    assert monde["virements"][0].reference in page.content.decode()


def test_liste_de_l_administration_limitee_aux_etablissements(
    client, virements_du_proche, django_capture_on_commit_callbacks
):
    from tests.factories import EtablissementFactory

    monde = virements_du_proche
    releve = demander(client, monde["proche"], django_capture_on_commit_callbacks)
    ailleurs = agent("Régisseur", EtablissementFactory(code="LOIN"))
    client.force_login(ailleurs)
    assert (
        list(client.get(reverse("admin:pecule_releveproche_changelist")).context["cl"].result_list)
        == []
    )
    assert client.get(
        reverse("admin:pecule_releveproche_change", args=[releve.pk])
    ).status_code in (302, 404)


def test_suppression_apres_la_retention(settings, virements_du_proche):
    settings.PECULE_RETENTION_RELEVES_JOURS = 3
    releve = services.demander_releve(proche=virements_du_proche["proche"])
    tasks.produire_releve.delay(releve.pk)
    releve.refresh_from_db()
    assert releve.expire_le == releve.pret_le + datetime.timedelta(days=3)
    chemin = releve.fichier.path
    garde = services.demander_releve(
        proche=virements_du_proche["proche"], detenu=virements_du_proche["second"]
    )
    assert tasks.supprimer_releves_expires.delay().get() == 0
    ReleveProche.objects.filter(pk=releve.pk).update(
        expire_le=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert tasks.supprimer_releves_expires.delay().get() == 1
    assert not ReleveProche.objects.filter(pk=releve.pk).exists()
    import os

    assert not os.path.exists(chemin)
    assert ReleveProche.objects.filter(pk=garde.pk).exists()


def test_releves_en_attente_relances(virements_du_proche):
    releve = services.demander_releve(proche=virements_du_proche["proche"])
    ReleveProche.objects.filter(pk=releve.pk).update(
        demande_le=timezone.now() - datetime.timedelta(minutes=10)
    )
    assert tasks.relancer_releves.delay(300).get() == 1
    releve.refresh_from_db()
    assert releve.statut == StatutReleve.PRET
    assert tasks.relancer_releves.delay(300).get() == 0


def test_personne_sans_lien_refusee(client, virements_du_proche):
    from tests.factories import DetenuFactory

    inconnu = DetenuFactory(etablissement=virements_du_proche["etablissement"])
    client.force_login(virements_du_proche["proche"])
    reponse = client.post(reverse("releves:demander"), {"detenu": inconnu.pk}, follow=True)
    assert "Choisissez une personne de la liste" in reponse.content.decode()
    assert ReleveProche.objects.count() == 0
    with pytest.raises(services.ReleveImpossible):
        services.demander_releve(proche=virements_du_proche["proche"], detenu=inconnu)


def test_bloc_telecharger_en_pdf_de_l_historique(
    client, virements_du_proche, django_capture_on_commit_callbacks
):
    monde = virements_du_proche
    client.force_login(monde["proche"])
    page = client.get(reverse("pecule:historique")).content.decode()
    assert "Télécharger en PDF" in page
    assert f'action="{reverse("releves:demander")}"' in page
    assert f'<option value="{monde["second"].pk}">Paul MARTIN</option>' in page
    assert f'<option value="{monde["detenu"].pk}">' in page
    with django_capture_on_commit_callbacks(execute=True):
        reponse = client.post(reverse("releves:demander"), {"detenu": monde["second"].pk})
    releve = ReleveProche.objects.get()
    assert releve.detenu == monde["second"] and releve.statut == StatutReleve.PRET
    assert reponse["Location"] == f"{reverse('releves:index')}#releve-{releve.pk}"
    page = client.get(reponse["Location"]).content.decode()
    assert "Vos virements à Paul MARTIN" in page
    assert reverse("releves:telecharger", args=[releve.pk]) in page
    assert "portail/releve.js" not in page  # nothing left to poll


def test_releve_de_deux_prisons_limite_ligne_a_ligne(
    client, situation, fournisseur_memoire, monkeypatch
):
    """Issue 11 item 4: a relative pays detainees in two prisons and asks for an
    all-detainees statement; the régisseur of one prison saw the other prison's
    detainee, écrou and amount, and the totals of both. Now each sees the lines of their
    own establishments only (list, page, verification), a superuser all of them."""
    from pecule.fournisseurs.base import EtatPaiement
    from pecule.services import appliquer_etat, initier_virement
    from tests.factories import DetenuFactory, EtablissementFactory
    from tests.pecule.conftest import permis_pour

    monkeypatch.setattr(services, "pdf_releve", lambda donnees, emis_le: b"%PDF-1.7 test")
    proche, ici = situation["proche"], situation["etablissement"]
    loin = EtablissementFactory(code="LOIN", nom="Centre pénitentiaire Lointain")
    voisin = DetenuFactory(etablissement=loin, nom="VOISIN", prenoms="Marc", numero_ecrou="777001")
    permis_pour(proche, voisin, numero="PV-LOIN")

    def payer(detenu, montant):
        virement = initier_virement(
            proche=proche,
            detenu=detenu,
            montant=montant,
            cle_idempotence=str(__import__("uuid").uuid4()),
            url_retour="https://portail.invalid/retour",
        )
        return appliquer_etat(
            virement=virement, etat=EtatPaiement("execute", "EXECUTED"), origine="test"
        )

    a_ici = payer(situation["detenu"], "40.00")
    a_loin = payer(voisin, "123.45")
    releve = services.demander_releve(proche=proche)
    releve = services.produire(releve.pk)
    assert releve.nombre_virements == 2  # the statement itself is whole

    def pages(utilisateur):
        client.force_login(utilisateur)
        liste = client.get(reverse("admin:pecule_releveproche_changelist"))
        fiche = client.get(reverse("admin:pecule_releveproche_change", args=[releve.pk]))
        verification = client.post(
            reverse("admin:pecule_releveproche_verifier"), {"code": releve.code_court}
        )
        assert {liste.status_code, fiche.status_code, verification.status_code} == {200}
        return [r.content.decode() for r in (liste, fiche, verification)]

    for page in pages(agent("Régisseur", ici)):
        assert "VOISIN" not in page and "777001" not in page and "123,45" not in page
        assert "163,45" not in page  # nor the total of both prisons
    liste, fiche, verification = pages(agent("Régisseur", ici))
    assert a_ici.reference in fiche and a_loin.reference not in fiche
    assert "40,00" in liste and "40,00" in verification

    liste, fiche, verification = pages(agent("Régisseur", loin))
    assert a_loin.reference in fiche and a_ici.reference not in fiche
    assert situation["detenu"].numero_ecrou not in fiche + liste + verification
    assert "123,45" in liste

    ailleurs = agent("Régisseur", EtablissementFactory(code="AILL"))
    client.force_login(ailleurs)
    verification = client.post(
        reverse("admin:pecule_releveproche_verifier"), {"code": releve.code_court}
    ).content.decode()
    assert "Code reconnu" in verification
    assert "ne concerne aucun virement vers vos établissements" in verification
    assert "VOISIN" not in verification and "DUBOIS" not in verification

    superutilisateur = UtilisateurFactory(is_superuser=True, is_staff=True)
    _liste, fiche, _verification = pages(superutilisateur)
    assert a_ici.reference in fiche and a_loin.reference in fiche and "163,45" in _liste


@pytest.mark.parametrize(
    "fin",
    [
        timezone.make_aware(datetime.datetime(2026, 12, 2, 23, 30)),  # winter: starts in summer
        timezone.make_aware(datetime.datetime(2026, 5, 10, 0, 30)),  # summer: starts in winter
    ],
    ids=["fin-en-hiver", "fin-en-ete"],
)
def test_periode_a_la_meme_heure_de_paris_de_part_et_d_autre_d_un_changement_d_heure(fin):
    """183 days on the wall clock in Paris: the window starts at the local time it ends
    at, not one hour off because the clocks changed in between (UTC arithmetic)."""
    debut, fin_ = services.periode_des_six_derniers_mois(fin)
    debut, fin_ = timezone.localtime(debut), timezone.localtime(fin_)
    assert (debut.hour, debut.minute) == (fin_.hour, fin_.minute)
    assert fin_.date() - debut.date() == services.DUREE_HISTORIQUE
    assert debut.utcoffset() != fin_.utcoffset()


def test_la_periode_imprimee_est_en_heure_de_paris(
    client, virements_du_proche, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 12, 2, 23, 30)))
    releve = demander(client, virements_du_proche["proche"], django_capture_on_commit_callbacks)
    texte = texte_pdf(telecharger(client, releve))
    assert "Du 02/06/2026 à 23:30 au 02/12/2026 à 23:30" in texte, texte[:800]


def test_le_message_dit_ce_que_la_page_montre(transactional_db, client, virements_du_proche):
    """Tasks in process (the local run): the statement is rendered when the request
    commits, and the message says « prêt », never « en préparation » beside the link."""
    client.force_login(virements_du_proche["proche"])
    reponse = client.post(reverse("releves:demander"), {"detenu": ""}, follow=True)
    page = reponse.content.decode()
    assert "Votre relevé est prêt : vous pouvez le télécharger." in page
    assert "en préparation" not in page
