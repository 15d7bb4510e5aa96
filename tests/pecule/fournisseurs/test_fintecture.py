"""The Fintecture adapter against recorded responses (tests/pecule/fournisseurs/
enregistrements/fintecture/, built from Fintecture's documented examples) served by a fake
transport: no network, no database. The RSA key is generated for the test session: no real
credential is used or stored."""

import base64
import datetime
import email.utils
import hashlib
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from pecule import fournisseurs
from pecule.fournisseurs.base import ErreurFournisseur, Payeur, SignatureInvalide
from pecule.fournisseurs.fintecture import FournisseurFintecture, empreinte
from pecule.models import StatutPaiement

ENREGISTREMENTS = Path(__file__).parent / "enregistrements" / "fintecture"
APP_ID = "0354d723-d8d3-469a-8926-4f3f18b2c416"
APP_SECRET = "secret-de-test-uniquement"  # a test value, never a credential
SESSION_ID = "b2bca2bcd3b64a32a7da0766df59a7d2"
# The recorded notification's Date header is "Fri, 14 Mar 2025 10:15:00 GMT".
MAINTENANT = datetime.datetime(2025, 3, 14, 10, 15, 30, tzinfo=datetime.UTC)


def enregistrement(nom: str) -> dict:
    return json.loads((ENREGISTREMENTS / nom).read_text(encoding="utf-8"))


def reponse_paiement(statut: str) -> dict:
    return enregistrement("paiements.json")["reponses"][statut]


class Transport(BaseAdapter):
    """A fake HTTP transport: answers recorded responses by (method, path) in order, and
    keeps every request sent as it went on the wire."""

    def __init__(self):
        super().__init__()
        self.reponses: dict[tuple[str, str], list] = {}
        self.requetes: list[requests.PreparedRequest] = []

    def ajouter(self, methode: str, chemin: str, reponse) -> None:
        self.reponses.setdefault((methode, chemin), []).append(reponse)

    def envoyees(self, methode: str, chemin: str) -> list[requests.PreparedRequest]:
        return [r for r in self.requetes if r.method == methode and urlsplit(r.url).path == chemin]

    def send(self, request, **kwargs):
        self.requetes.append(request)
        cle = (request.method, urlsplit(request.url).path)
        file = self.reponses.get(cle)
        if not file:
            raise AssertionError(f"unexpected request {cle}")
        reponse = file.pop(0) if len(file) > 1 else file[0]
        if isinstance(reponse, Exception):
            raise reponse
        resultat = requests.Response()
        resultat.status_code = reponse["statut"]
        resultat.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized"}.get(
            reponse["statut"], ""
        )
        resultat.headers = CaseInsensitiveDict(reponse.get("entetes", {}))
        if "corps" in reponse:
            resultat._content = json.dumps(reponse["corps"]).encode()
        else:
            resultat._content = reponse.get("texte", "").encode()
        resultat.url = request.url
        resultat.request = request
        resultat.encoding = "utf-8"
        return resultat

    def close(self):
        pass


class Horloge:
    def __init__(self, instant=MAINTENANT):
        self.instant = instant

    def __call__(self):
        return self.instant

    def avancer(self, secondes: float) -> None:
        self.instant += datetime.timedelta(seconds=secondes)


@pytest.fixture(scope="session")
def cle_privee():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def cle_pem(cle_privee) -> str:
    return cle_privee.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


@pytest.fixture
def cache_local(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"fintecture-{uuid.uuid4()}",
        }
    }


@pytest.fixture
def transport():
    transport = Transport()
    transport.ajouter("POST", "/oauth/accesstoken", enregistrement("jeton.json"))
    return transport


@pytest.fixture
def horloge():
    return Horloge()


@pytest.fixture
def fabrique(cle_pem, transport, horloge, cache_local):
    def fabriquer(**options) -> FournisseurFintecture:
        session = requests.Session()
        session.mount("https://", transport)
        valeurs = {
            "nom": "fintecture",
            "app_id": APP_ID,
            "app_secret": APP_SECRET,
            "cle_privee": cle_pem,
            "environnement": "sandbox",
            "session": session,
            "horloge": horloge,
        }
        valeurs.update(options)
        return FournisseurFintecture(**valeurs)

    return fabriquer


@pytest.fixture
def fintecture(fabrique):
    return fabrique()


def creer(fournisseur: FournisseurFintecture, **autres):
    valeurs = {
        "montant": Decimal("25.50"),
        "creancier_nom": "Régie des comptes nominatifs – CP de Fresnes",
        "creancier_iban": "FR76 3000 1007 9412 3456 7890 185",
        "reference_bout_en_bout": "PEC-ABCD-EFGH",
        "libelle": "ECROU 123456 DUBOIS Jérôme PEC-ABCD-EFGH",
        "payeur": Payeur(nom="Angéla Claire Louise DUBOIS", email="angela@example.fr"),
        "url_retour": "https://pecule.example.fr/pecule/retour/0b6c3a47/",
        "cle_idempotence": "0b6c3a47-93a4-4c1e-8d7e-0d6f1b3e2a55",
    }
    valeurs.update(autres)
    return fournisseur.create_payment(**valeurs)


def parametres_signature(entete: str) -> dict:
    return dict(re.findall(r'(\w+)="([^"]*)"', entete))


def verifier_signature_requete(requete, cle_publique) -> dict:
    """Check a request's HTTP signature as Fintecture does: rebuild the signing string from
    the request as sent and verify it with the application's public key."""
    parametres = parametres_signature(requete.headers["Signature"])
    lignes = []
    for nom in parametres["headers"].split():
        if nom == "(request-target)":
            lignes.append(f"(request-target): {requete.method.lower()} {requete.path_url}")
        else:
            lignes.append(f"{nom}: {requete.headers[nom]}")
    cle_publique.verify(
        base64.b64decode(parametres["signature"]),
        "\n".join(lignes).encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    return parametres


# --- Authentication --------------------------------------------------------------------


def test_le_jeton_est_demande_par_client_credentials_puis_reutilise(fintecture, transport):
    transport.ajouter("GET", f"/pis/v2/payments/{SESSION_ID}", reponse_paiement("payment_pending"))
    fintecture.get_payment(SESSION_ID)
    fintecture.get_payment(SESSION_ID)

    (demande,) = transport.envoyees("POST", "/oauth/accesstoken")
    assert demande.url == "https://api-sandbox.fintecture.com/oauth/accesstoken"
    attendu = base64.b64encode(f"{APP_ID}:{APP_SECRET}".encode()).decode()
    assert demande.headers["Authorization"] == f"Basic {attendu}"
    assert demande.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(demande.body.decode()) == {
        "grant_type": ["client_credentials"],
        "app_id": [APP_ID],
        "scope": ["PIS"],
    }
    jeton = enregistrement("jeton.json")["corps"]["access_token"]
    for requete in transport.envoyees("GET", f"/pis/v2/payments/{SESSION_ID}"):
        assert requete.headers["Authorization"] == f"Bearer {jeton}"


def test_le_jeton_est_renouvele_peu_avant_son_expiration(fintecture, transport, horloge):
    transport.ajouter("GET", f"/pis/v2/payments/{SESSION_ID}", reponse_paiement("payment_pending"))
    fintecture.get_payment(SESSION_ID)
    horloge.avancer(3600 - 120)
    fintecture.get_payment(SESSION_ID)
    assert len(transport.envoyees("POST", "/oauth/accesstoken")) == 1
    horloge.avancer(90)  # within the last minute of validity
    fintecture.get_payment(SESSION_ID)
    assert len(transport.envoyees("POST", "/oauth/accesstoken")) == 2


def test_un_401_de_l_api_fait_redemander_le_jeton_une_fois(fintecture, transport):
    chemin = f"/pis/v2/payments/{SESSION_ID}"
    transport.ajouter("GET", chemin, {"statut": 401, "corps": {"status": "401"}})
    transport.ajouter("GET", chemin, reponse_paiement("payment_created"))
    assert fintecture.get_payment(SESSION_ID).statut == StatutPaiement.EXECUTE
    assert len(transport.envoyees("POST", "/oauth/accesstoken")) == 2


def test_des_identifiants_refuses_ne_sont_pas_transitoires(fabrique, transport):
    transport.reponses[("POST", "/oauth/accesstoken")] = [enregistrement("jeton_refuse.json")]
    with pytest.raises(ErreurFournisseur) as erreur:
        fabrique().get_payment(SESSION_ID)
    assert erreur.value.transitoire is False
    assert "Client authentication failed" in str(erreur.value)


# --- Request signing -------------------------------------------------------------------


def test_la_creation_est_signee_avec_digest(fintecture, transport, cle_privee):
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect.json"))
    creer(fintecture)

    (requete,) = transport.envoyees("POST", "/pis/v2/connect")
    assert requete.headers["Digest"] == (
        "SHA-256=" + base64.b64encode(hashlib.sha256(requete.body).digest()).decode()
    )
    assert requete.headers["Date"] == "Fri, 14 Mar 2025 10:15:30 GMT"
    assert uuid.UUID(requete.headers["X-Request-ID"]).version == 4
    assert requete.headers["Content-Type"] == "application/json"
    parametres = verifier_signature_requete(requete, cle_privee.public_key())
    assert parametres["keyId"] == APP_ID
    assert parametres["algorithm"] == "rsa-sha256"
    assert parametres["headers"] == "(request-target) date digest x-request-id"


def test_la_lecture_est_signee_sans_digest(fintecture, transport, cle_privee):
    transport.ajouter("GET", f"/pis/v2/payments/{SESSION_ID}", reponse_paiement("payment_pending"))
    fintecture.get_payment(SESSION_ID)

    (requete,) = transport.envoyees("GET", f"/pis/v2/payments/{SESSION_ID}")
    assert "Digest" not in requete.headers
    parametres = verifier_signature_requete(requete, cle_privee.public_key())
    assert parametres["headers"] == "(request-target) date x-request-id"


def test_une_signature_d_une_autre_cle_ne_verifie_pas(fintecture, transport):
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect.json"))
    creer(fintecture)
    (requete,) = transport.envoyees("POST", "/pis/v2/connect")
    autre = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidSignature):
        verifier_signature_requete(requete, autre.public_key())


# --- Payment creation ------------------------------------------------------------------


def test_create_payment_envoie_le_paiement_tel_que_documente(fintecture, transport, horloge):
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect.json"))
    paiement = creer(fintecture)

    assert paiement.id_fournisseur == SESSION_ID
    assert paiement.url_redirection == (f"https://connect-sandbox.fintecture.com/pis/{SESSION_ID}")
    assert paiement.expire_le == horloge() + datetime.timedelta(seconds=3600)

    (requete,) = transport.envoyees("POST", "/pis/v2/connect")
    assert urlsplit(requete.url).netloc == "api-sandbox.fintecture.com"
    assert parse_qs(urlsplit(requete.url).query) == {
        "redirect_uri": ["https://pecule.example.fr/pecule/retour/0b6c3a47/"],
        "state": ["0b6c3a47-93a4-4c1e-8d7e-0d6f1b3e2a55"],
    }
    assert json.loads(requete.body) == {
        "meta": {
            "psu_name": "Angela Claire Louise DUBOIS",
            "psu_email": "angela@example.fr",
            "expiry": 3600,
        },
        "data": {
            "type": "PIS",
            "attributes": {
                "amount": "25.50",
                "currency": "EUR",
                "communication": "ECROU 123456 DUBOIS Jerome PEC-ABCD-EFGH",
                "end_to_end_id": "PEC-ABCD-EFGH",
                "beneficiary": {
                    "name": "Regie des comptes nominatifs CP de Fresnes",
                    "iban": "FR7630001007941234567890185",
                    "country": "FR",
                },
            },
        },
    }


def test_la_meme_cle_d_idempotence_rend_le_meme_paiement(fintecture, transport):
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect.json"))
    premier = creer(fintecture)
    second = creer(fintecture)
    assert second == premier
    assert len(transport.envoyees("POST", "/pis/v2/connect")) == 1
    creer(fintecture, cle_idempotence="une-autre-cle")
    assert len(transport.envoyees("POST", "/pis/v2/connect")) == 2


def test_la_communication_tient_en_140_caracteres_sepa(fintecture, transport):
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect.json"))
    creer(fintecture, libelle="ÉCROU 1 « NGUYỄN » " + "x" * 200)
    (requete,) = transport.envoyees("POST", "/pis/v2/connect")
    communication = json.loads(requete.body)["data"]["attributes"]["communication"]
    assert len(communication) == 140
    assert communication.startswith("ECROU 1 NGUYEN xxx")


@pytest.mark.parametrize("montant", [Decimal("10.005"), Decimal("0"), Decimal("-5.00")])
def test_un_montant_invalide_est_refuse_sans_appel(fintecture, transport, montant):
    with pytest.raises(ErreurFournisseur) as erreur:
        creer(fintecture, montant=montant)
    assert erreur.value.transitoire is False
    assert transport.requetes == []


@pytest.mark.parametrize(
    "reference", ["PEC-ABCD-EFGH-" + "X" * 30, "PEC ABCD", "/PEC-ABCD", "PEC//ABCD", "PÉC-1"]
)
def test_une_reference_que_sepa_alterait_est_refusee(fintecture, transport, reference):
    with pytest.raises(ErreurFournisseur) as erreur:
        creer(fintecture, reference_bout_en_bout=reference)
    assert erreur.value.transitoire is False
    assert transport.requetes == []


def test_en_mode_application_le_compte_enregistre_est_credite(fabrique, transport):
    fintecture = fabrique(
        beneficiaire="application", iban_application="FR76 3000 1007 9412 3456 7890 185"
    )
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect.json"))
    creer(fintecture)
    (requete,) = transport.envoyees("POST", "/pis/v2/connect")
    assert "beneficiary" not in json.loads(requete.body)["data"]["attributes"]

    with pytest.raises(ErreurFournisseur) as erreur:
        creer(fintecture, creancier_iban="FR1420041010050500013M02606", cle_idempotence="b")
    assert erreur.value.transitoire is False
    assert len(transport.envoyees("POST", "/pis/v2/connect")) == 1


def test_la_duree_de_validite_est_configurable(fabrique, transport, horloge):
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect.json"))
    paiement = creer(fabrique(duree_validite=900))
    (requete,) = transport.envoyees("POST", "/pis/v2/connect")
    assert json.loads(requete.body)["meta"]["expiry"] == 900
    assert paiement.expire_le == horloge() + datetime.timedelta(seconds=900)


# --- Errors ----------------------------------------------------------------------------


def test_un_refus_4xx_rapporte_le_message_du_fournisseur(fintecture, transport):
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect_400.json"))
    with pytest.raises(ErreurFournisseur) as erreur:
        creer(fintecture)
    assert erreur.value.transitoire is False
    assert "beneficiary.iban is not a valid IBAN" in str(erreur.value)
    assert "400" in str(erreur.value)


def test_une_session_inconnue_n_est_pas_transitoire(fintecture, transport):
    transport.ajouter("GET", f"/pis/v2/payments/{SESSION_ID}", enregistrement("paiement_404.json"))
    with pytest.raises(ErreurFournisseur) as erreur:
        fintecture.get_payment(SESSION_ID)
    assert erreur.value.transitoire is False
    assert "No payment session with this id" in str(erreur.value)


@pytest.mark.parametrize(
    "reponse",
    [
        enregistrement("erreur_500.json"),
        enregistrement("erreur_429.json"),
        requests.ConnectionError("connexion refusée"),
        requests.Timeout("délai dépassé"),
        {"statut": 200, "texte": "<html>maintenance</html>"},
    ],
    ids=["5xx", "429", "reseau", "delai", "reponse-illisible"],
)
def test_les_pannes_sont_transitoires(fintecture, transport, reponse):
    transport.ajouter("GET", f"/pis/v2/payments/{SESSION_ID}", reponse)
    with pytest.raises(ErreurFournisseur) as erreur:
        fintecture.get_payment(SESSION_ID)
    assert erreur.value.transitoire is True


def test_une_creation_en_panne_ne_memorise_rien(fintecture, transport):
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("erreur_500.json"))
    transport.ajouter("POST", "/pis/v2/connect", enregistrement("connect.json"))
    with pytest.raises(ErreurFournisseur):
        creer(fintecture)
    assert creer(fintecture).id_fournisseur == SESSION_ID  # retried with the same key


# --- Statuses --------------------------------------------------------------------------

STATUTS_DOCUMENTES = [
    ("provider_required", StatutPaiement.INITIE),
    ("sca_required", StatutPaiement.INITIE),
    ("payment_waiting", StatutPaiement.INITIE),
    ("session_initiated", StatutPaiement.INITIE),
    ("payment_error", StatutPaiement.INITIE),
    ("payment_pending", StatutPaiement.AUTORISE),
    ("payment_unknown", StatutPaiement.AUTORISE),
    ("payment_partial", StatutPaiement.AUTORISE),
    ("payment_created", StatutPaiement.EXECUTE),
    ("payment_unsuccessful", StatutPaiement.REFUSE),
    ("payment_cancelled", StatutPaiement.ANNULE),
    ("payment_expired", StatutPaiement.EXPIRE),
]


@pytest.mark.parametrize(("brut", "normalise"), STATUTS_DOCUMENTES)
def test_get_payment_normalise_chaque_statut_documente(fintecture, transport, brut, normalise):
    transport.ajouter("GET", f"/pis/v2/payments/{SESSION_ID}", reponse_paiement(brut))
    etat = fintecture.get_payment(SESSION_ID)
    assert etat.statut == normalise
    assert etat.statut_brut == brut


def test_chaque_statut_enregistre_est_couvert():
    assert set(enregistrement("paiements.json")["reponses"]) == {b for b, _ in STATUTS_DOCUMENTES}


def test_le_motif_garde_l_etat_du_transfert(fintecture, transport):
    transport.ajouter(
        "GET", f"/pis/v2/payments/{SESSION_ID}", reponse_paiement("payment_unsuccessful")
    )
    etat = fintecture.get_payment(SESSION_ID)
    assert "transfer_state=rejected" in etat.motif
    assert "refusé" in etat.motif


def test_un_echec_non_definitif_laisse_le_paiement_initie(fabrique, transport):
    transport.ajouter(
        "GET", f"/pis/v2/payments/{SESSION_ID}", reponse_paiement("payment_unsuccessful")
    )
    etat = fabrique(echec_definitif=False).get_payment(SESSION_ID)
    assert etat.statut == StatutPaiement.INITIE
    assert etat.statut_brut == "payment_unsuccessful"


def test_un_statut_inconnu_ne_fait_rien_avancer(fintecture, transport):
    reponse = reponse_paiement("payment_pending")
    reponse = {**reponse, "corps": {**reponse["corps"], "meta": {"status": "iban_required"}}}
    transport.ajouter("GET", f"/pis/v2/payments/{SESSION_ID}", reponse)
    etat = fintecture.get_payment(SESSION_ID)
    assert etat.statut == StatutPaiement.INITIE
    assert etat.statut_brut == "iban_required"
    assert "inconnu" in etat.motif


# --- Notifications ---------------------------------------------------------------------


def signer_comme_fintecture(corps: bytes, cle_publique, *, entetes=None, signes=None) -> dict:
    """What Fintecture sends: the recorded headers, the body's Digest, and a Signature whose
    value is the signing string encrypted (RSA-OAEP) with the application's public key."""
    modele = enregistrement("notification_entetes.json")
    entetes = dict(entetes or modele["entetes"])
    entetes["Digest"] = empreinte(corps)
    signes = signes or modele["en_tetes_signes"]
    chaine = "\n".join(f"{nom}: {entetes[_nom_entete(entetes, nom)]}" for nom in signes.split())
    sha1 = hashes.SHA1()  # noqa: S303 - OAEP padding's hash, as Fintecture's SDKs use it
    chiffre = cle_publique.encrypt(
        chaine.encode(), padding.OAEP(mgf=padding.MGF1(sha1), algorithm=sha1, label=None)
    )
    entetes["Signature"] = (
        f'keyId="{modele["key_id"]}",algorithm="rsa-sha256",headers="{signes}",'
        f'signature="{base64.b64encode(chiffre).decode()}"'
    )
    return entetes


def _nom_entete(entetes: dict, nom: str) -> str:
    return next(cle for cle in entetes if cle.lower() == nom)


def corps_formulaire() -> bytes:
    return (ENREGISTREMENTS / "notification_formulaire.txt").read_bytes()


def test_une_notification_authentique_est_acceptee(fintecture, cle_privee):
    corps = corps_formulaire()
    fintecture.verify_notification(signer_comme_fintecture(corps, cle_privee.public_key()), corps)


def test_les_entetes_a_la_django_sont_acceptes(fintecture, cle_privee):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key())
    # request.headers as Django hands it over: "X-Request-Id", "Digest", "Signature"...
    django = {"-".join(p.capitalize() for p in cle.split("-")): v for cle, v in entetes.items()}
    fintecture.verify_notification(django, corps)


def test_une_notification_json_est_acceptee(fintecture, cle_privee):
    corps = (ENREGISTREMENTS / "notification_json.json").read_bytes()
    modele = enregistrement("notification_entetes.json")["entetes"]
    entetes = signer_comme_fintecture(
        corps, cle_privee.public_key(), entetes={**modele, "Content-Type": "application/json"}
    )
    fintecture.verify_notification(entetes, corps)


def rejet(fintecture, entetes, corps) -> str:
    with pytest.raises(SignatureInvalide) as erreur:
        fintecture.verify_notification(entetes, corps)
    return erreur.value.motif


def test_un_corps_modifie_est_rejete(fintecture, cle_privee):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key())
    falsifie = corps.replace(b"payment_created", b"payment_cancelled")
    assert rejet(fintecture, entetes, falsifie) == "digest_incorrect"


def test_un_digest_recalcule_sur_un_corps_modifie_est_rejete(fintecture, cle_privee):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key())
    falsifie = corps.replace(b"payment_created", b"payment_cancelled")
    entetes["Digest"] = empreinte(falsifie)
    assert rejet(fintecture, entetes, falsifie) == "signature_incorrecte"


def test_une_signature_pour_une_autre_cle_est_rejetee(fintecture):
    corps = corps_formulaire()
    autre = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    entetes = signer_comme_fintecture(corps, autre.public_key())
    assert rejet(fintecture, entetes, corps) == "signature_indechiffrable"


def test_un_en_tete_signe_modifie_est_rejete(fintecture, cle_privee):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key())
    entetes["X-Request-ID"] = str(uuid.uuid4())
    assert rejet(fintecture, entetes, corps) == "signature_incorrecte"


@pytest.mark.parametrize(
    ("absent", "motif"),
    [("Signature", "signature_absente"), ("Digest", "digest_absent")],
)
def test_un_en_tete_manquant_est_rejete(fintecture, cle_privee, absent, motif):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key())
    del entetes[absent]
    assert rejet(fintecture, entetes, corps) == motif


def test_une_signature_qui_ne_couvre_pas_le_digest_est_rejetee(fintecture, cle_privee):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key(), signes="date x-request-id")
    assert rejet(fintecture, entetes, corps) == "signature_malformee"


def test_une_signature_illisible_est_rejetee(fintecture, cle_privee):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key())
    entetes["Signature"] = re.sub(
        r'signature="[^"]*"', 'signature="pas du base64!"', entetes["Signature"]
    )
    assert rejet(fintecture, entetes, corps) == "signature_indechiffrable"


@pytest.mark.parametrize("decalage", [301, -301, 3600])
def test_une_notification_perimee_est_rejetee(fintecture, cle_privee, horloge, decalage):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key())
    envoyee = email.utils.parsedate_to_datetime(entetes["Date"])
    horloge.instant = envoyee + datetime.timedelta(seconds=decalage)
    assert rejet(fintecture, entetes, corps) == "notification_perimee"


def test_la_tolerance_est_configurable(fabrique, cle_privee, horloge):
    corps = corps_formulaire()
    entetes = signer_comme_fintecture(corps, cle_privee.public_key())
    horloge.avancer(3600)
    fabrique(tolerance_notification=0).verify_notification(entetes, corps)
    fabrique(tolerance_notification=7200).verify_notification(entetes, corps)


def test_parse_notification_formulaire(fintecture):
    (evenement,) = fintecture.parse_notification(corps_formulaire())
    assert evenement.id_fournisseur == SESSION_ID
    assert evenement.statut == StatutPaiement.EXECUTE
    assert evenement.statut_brut == "payment_created"
    assert evenement.id_evenement == f"{SESSION_ID}:payment_created:completed"
    assert len(evenement.id_evenement) <= 100


def test_parse_notification_json(fintecture):
    corps = (ENREGISTREMENTS / "notification_json.json").read_bytes()
    (evenement,) = fintecture.parse_notification(corps)
    assert evenement.id_fournisseur == SESSION_ID
    assert evenement.statut == StatutPaiement.REFUSE
    assert evenement.statut_brut == "payment_unsuccessful"


def test_un_evenement_redelivre_garde_son_identifiant(fintecture):
    premier = fintecture.parse_notification(corps_formulaire())
    assert fintecture.parse_notification(corps_formulaire()) == premier
    autre = corps_formulaire().replace(b"status=payment_created", b"status=payment_pending")
    assert fintecture.parse_notification(autre)[0].id_evenement != premier[0].id_evenement


def test_un_remboursement_n_est_pas_un_evenement_de_virement(fintecture):
    corps = (ENREGISTREMENTS / "notification_remboursement.txt").read_bytes()
    assert fintecture.parse_notification(corps) == []


@pytest.mark.parametrize("corps", [b"status=payment_created", b"{}", b"[1, 2]", b"%%%=&&"])
def test_une_notification_incomplete_leve_une_erreur(fintecture, corps):
    with pytest.raises((KeyError, ValueError)):
        fintecture.parse_notification(corps)


# --- Configuration ---------------------------------------------------------------------


def test_configurable_par_les_reglages(settings, cle_pem, cache_local, tmp_path):
    fichier = tmp_path / "fintecture.pem"
    fichier.write_text(cle_pem)
    settings.PECULE_FOURNISSEURS = {
        "fintecture": {
            "CLASSE": "pecule.fournisseurs.fintecture.FournisseurFintecture",
            "OPTIONS": {
                "app_id": APP_ID,
                "app_secret": APP_SECRET,
                "cle_privee_fichier": str(fichier),
                "environnement": "production",
                "duree_validite": 1800,
            },
        }
    }
    fournisseurs.reinitialiser()
    try:
        prestataire = fournisseurs.fournisseur("fintecture")
        assert isinstance(prestataire, FournisseurFintecture)
        assert prestataire.nom == "fintecture"
        assert prestataire.url_api == "https://api.fintecture.com"
        assert prestataire.duree_validite == 1800
    finally:
        fournisseurs.reinitialiser()


def test_une_cle_pem_aux_retours_echappes_est_acceptee(cle_pem):
    fintecture = FournisseurFintecture(
        nom="fintecture",
        app_id=APP_ID,
        app_secret=APP_SECRET,
        cle_privee=cle_pem.replace("\n", "\\n"),
        cache="",
    )
    assert fintecture.app_id == APP_ID


def test_une_configuration_incomplete_est_refusee(cle_pem):
    with pytest.raises(ValueError):
        FournisseurFintecture(nom="f", app_id="", app_secret="x", cle_privee=cle_pem)
    with pytest.raises(ValueError):
        FournisseurFintecture(
            nom="f", app_id="a", app_secret="x", cle_privee=cle_pem, beneficiaire="autre"
        )


# --- Through the portal's notification endpoint ------------------------------------------


@pytest.fixture
def fintecture_configure(settings, cle_pem, cache_local):
    settings.PECULE_FOURNISSEURS = {
        "fintecture": {
            "CLASSE": "pecule.fournisseurs.fintecture.FournisseurFintecture",
            "OPTIONS": {"app_id": APP_ID, "app_secret": APP_SECRET, "cle_privee": cle_pem},
        }
    }
    fournisseurs.reinitialiser()
    yield
    fournisseurs.reinitialiser()


def test_le_point_de_notification_accepte_fintecture_une_seule_fois(
    client, db, fintecture_configure, cle_privee
):
    from django.urls import reverse

    from pecule.models import NotificationRecue, NotificationRejetee

    corps = corps_formulaire()
    modele = enregistrement("notification_entetes.json")["entetes"]
    entetes = signer_comme_fintecture(
        corps,
        cle_privee.public_key(),
        entetes={**modele, "Date": email.utils.formatdate(usegmt=True)},
    )
    url = reverse("notifications_paiement", args=["fintecture"])
    envoi = {k: v for k, v in entetes.items() if k not in ("Content-Type", "Host")}
    for _ in range(2):
        reponse = client.post(
            url, data=corps, content_type="application/x-www-form-urlencoded", headers=envoi
        )
        assert reponse.status_code == 200
    (notification,) = NotificationRecue.objects.filter(fournisseur="fintecture")
    assert notification.id_evenement == f"{SESSION_ID}:payment_created:completed"

    falsifie = corps.replace(b"payment_created", b"payment_cancelled")
    reponse = client.post(
        url, data=falsifie, content_type="application/x-www-form-urlencoded", headers=envoi
    )
    assert reponse.status_code == 400
    assert NotificationRejetee.objects.get(fournisseur="fintecture").motif == "digest_incorrect"
    assert NotificationRecue.objects.count() == 1
