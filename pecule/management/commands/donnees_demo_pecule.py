"""The relatives of the demo (after `donnees_demo` and `donnees_demo_permis`), so that a
newcomer's first walk meets every situation without preparing it:

- Jean-Pierre MARTIN (stand-in login `martin`): his permit for Lucas MARTIN registered,
  a 150 € transfer credited this month and a 120 € one held « à traiter » for the
  régisseur (it breaks Fresnes's 250 € monthly cap per sender); his permit for Mehdi
  FAURE registered, then suspended by the establishment (« Accueil » shows why);
- Héloïse LEFÈVRE (login `heloise`): her permit for Antoine LEFÈVRE registered, so that
  the régisseur can name her as the sender of a D.422 request.

Angela DUBOIS (login `test`) is left for the leaflet's journey. The accounts are those
FranceConnect's stand-in gives (the claims of oidc/identities.json, copied here since the
production image, which also runs the demo, leaves the stand-in out; a test checks they
match); the transfers are written as the provider's notifications would leave them
(`appliquer_etat`), without a bank. Safe to run twice."""

from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from comptes.auth import FranceConnectBackend
from comptes.models import Utilisateur
from permis.models import PermisDeVisite, PermisEnregistre, StatutPermis
from permis.services import enregistrer_permis, suspendre_permis

from ...fournisseurs.base import EtatPaiement
from ...models import StatutPaiement, Virement
from ...services import appliquer_etat
from ...services.commun import journal

# The stand-in's claims (oidc/identities.json) of the demo's relatives.
IDENTITES = {
    "martin": {
        "sub": "3f0ea652acfaddd5f3b8c6cd8136c31dcfce582800dd0a8c17eecad1219bc20ev1",
        "given_name": "Jean-Pierre",
        "family_name": "MARTIN",
        "birthdate": "1975-03-14",
        "birthplace": "69123",
        "birthcountry": "99100",
        "email": "jean-pierre.martin@example.fr",
    },
    "heloise": {
        "sub": "57d70d24383717c1f444cf4dab00bee129087f21f8bd5c8a258b6b72b52df7f3v1",
        "given_name": "Héloïse Éléonore",
        "family_name": "LEFÈVRE",
        "birthdate": "1990-11-02",
        "birthplace": "13055",
        "birthcountry": "99100",
        "email": "heloise.lefevre@example.fr",
    },
}

# (stand-in login, permit number, suspended afterwards)
PERMIS_ENREGISTRES = [
    ("martin", "PV-FRE-0002", False),
    ("martin", "PV-LYC-0002", True),
    ("heloise", "PV-FRE-0003", False),
]
# (stand-in login, permit number, idempotency key, amount): executed by the bank, in order.
VIREMENTS = [
    ("martin", "PV-FRE-0002", "demo-martin-1", Decimal("150.00")),
    ("martin", "PV-FRE-0002", "demo-martin-2", Decimal("120.00")),
]


class Command(BaseCommand):
    help = "Crée les proches de démonstration, leurs permis enregistrés et leurs virements."

    def handle(self, *args, **options):
        with transaction.atomic():
            proches = {login: self._proche(claims) for login, claims in IDENTITES.items()}
            for login, numero, suspendre in PERMIS_ENREGISTRES:
                self._enregistrer(proches[login], numero, suspendre)
        for login, numero, cle, montant in VIREMENTS:
            self._virement(proches[login], numero, cle, montant)
        self.stdout.write("Proches de démonstration (identifiant du bouchon FranceConnect) :")
        self.stdout.write("  martin : un virement crédité, un virement « à traiter » (plafond),")
        self.stdout.write("           un permis suspendu ; heloise : permis de son frère Antoine.")

    def _proche(self, claims) -> Utilisateur:
        proche = Utilisateur.objects.filter(fc_sub=claims["sub"]).first()
        return proche or FranceConnectBackend().create_user(claims)

    def _enregistrer(self, proche, numero: str, suspendre: bool) -> None:
        permis = PermisDeVisite.objects.filter(numero=numero).select_related("detenu").first()
        if permis is None:
            raise CommandError("Lancez d'abord « manage.py donnees_demo_permis ».")
        if not PermisEnregistre.objects.filter(proche=proche, permis=permis).exists():
            if permis.statut != StatutPermis.ACTIF:
                return  # suspended by an earlier run before being registered: leave it
            enregistrer_permis(
                proche=proche,
                numero=numero,
                etablissement=permis.etablissement,
                numero_ecrou=permis.detenu.numero_ecrou,
                adresse_ip="127.0.0.1",
            )
        if suspendre and permis.statut == StatutPermis.ACTIF:
            suspendre_permis(permis=permis, motif="Démonstration : incident au parloir")

    def _virement(self, proche, numero: str, cle: str, montant: Decimal) -> None:
        if Virement.objects.filter(cle_idempotence=cle).exists():
            return
        permis = PermisDeVisite.objects.select_related("detenu").get(numero=numero)
        virement = Virement.objects.create(
            cle_idempotence=cle,
            proche=proche,
            permis=permis,
            detenu=permis.detenu,
            etablissement=permis.etablissement,
            montant=montant,
            fournisseur="sandbox",
        )
        journal(virement, "initiation", "", StatutPaiement.INITIE, "Démonstration")
        appliquer_etat(
            virement=virement,
            etat=EtatPaiement(statut=StatutPaiement.EXECUTE, statut_brut="EXECUTED"),
            origine="notification",
        )
