"""Demo data for the régie: two prisons, their staff, detainees in typical situations.

Safe to run twice: every object is looked up by a natural key before being created, and
every ledger entry has a stable `source` ("demo:<écrou>:<n>"), so a second run books
nothing new (the services raise `EcritureDejaPassee`, which is expected here). All money
goes through `regie.services`; this command never writes ledger rows itself.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from schwifty import IBAN

from regie import services
from regie.exceptions import EcritureDejaPassee
from regie.models import (
    Affectation,
    AutorisationD422,
    ChoixReliquat,
    DecisionMagistrat,
    Detenu,
    Ecriture,
    Etablissement,
    NatureEcriture,
    Regime,
    StatutD422,
    StatutPenal,
)
from regie.roles import CHEF_ETABLISSEMENT as CHEF
from regie.roles import REGISSEUR, synchroniser_roles
from socle.dates import aujourdhui
from socle.formats import euros as _euros

MOT_DE_PASSE_PAR_DEFAUT = "demo-pecule-2026"

ETABLISSEMENTS = [
    {
        "code": "FRE",
        "nom": "Centre pénitentiaire de Fresnes",
        "regie_titulaire": "Régie des comptes nominatifs du CP de Fresnes",
        # Bank, branch and account codes; the check digits are computed by schwifty.
        "rib": ("10071", "94000", "00001005471"),
        "plafond_par_virement": Decimal("200.00"),
        "plafond_mensuel_par_detenu": Decimal("400.00"),
        "plafond_mensuel_par_emetteur": Decimal("250.00"),
    },
    {
        "code": "LYC",
        "nom": "Maison d'arrêt de Lyon-Corbas",
        "regie_titulaire": "Régie des comptes nominatifs de la MA de Lyon-Corbas",
        "rib": ("10071", "69000", "00001007328"),
        "plafond_par_virement": Decimal("150.00"),
        "plafond_mensuel_par_detenu": Decimal("300.00"),
        "plafond_mensuel_par_emetteur": None,
    },
]

# username, role, establishment code, first name, last name
PERSONNEL = [
    ("regisseur.fresnes", REGISSEUR, "FRE", "Nathalie", "Perrin"),
    ("chef.fresnes", CHEF, "FRE", "Olivier", "Garnier"),
    ("regisseur.lyon", REGISSEUR, "LYC", "Sandrine", "Chevalier"),
    ("chef.lyon", CHEF, "LYC", "Laurent", "Mercier"),
]

# Fixed écrou numbers, unique across both prisons (they are part of the entry sources).
DETENUS = [
    {
        "cle": "ordinaire",
        "etablissement": "FRE",
        "situation": "condamné, détention ordinaire, recettes du mois et cantine",
        "identite": {
            "numero_ecrou": "194512",
            "nom": "DUBOIS",
            "prenoms": "Maxime",
            "date_naissance": datetime.date(1988, 4, 12),
            "statut_penal": StatutPenal.CONDAMNE,
        },
    },
    {
        "cle": "prevenu",
        "etablissement": "FRE",
        "situation": "prévenu",
        "identite": {
            "numero_ecrou": "195087",
            "nom": "MARTIN",
            "prenoms": "Lucas",
            "date_naissance": datetime.date(2001, 9, 3),
            "statut_penal": StatutPenal.PREVENU,
        },
    },
    {
        "cle": "d422_demandee",
        "etablissement": "FRE",
        "situation": "condamné, demande D.422 en attente de la décision du chef",
        "identite": {
            "numero_ecrou": "193640",
            "nom": "LEFÈVRE",
            "prenoms": "Antoine",
            "date_naissance": datetime.date(1979, 1, 25),
            "statut_penal": StatutPenal.CONDAMNE,
        },
    },
    {
        "cle": "plafond",
        "etablissement": "FRE",
        "situation": "condamné, victimes indemnisées : plafond de 1 000 € des parties civiles "
        "atteint",
        "identite": {
            "numero_ecrou": "189931",
            "nom": "ROUSSEL",
            "prenoms": "Damien",
            "date_naissance": datetime.date(1972, 6, 30),
            "statut_penal": StatutPenal.CONDAMNE,
            "victimes_indemnisees_ou_absentes": True,
            "creance_alimentaire_executoire": False,
        },
    },
    {
        "cle": "pse",
        "etablissement": "LYC",
        "situation": "condamné sous surveillance électronique (pas de pécule de libération)",
        "identite": {
            "numero_ecrou": "61204",
            "nom": "GIRARD",
            "prenoms": "Kévin",
            "date_naissance": datetime.date(1995, 11, 18),
            "statut_penal": StatutPenal.CONDAMNE,
            "regime": Regime.SURVEILLANCE_ELECTRONIQUE,
        },
    },
    {
        "cle": "d422_autorisee",
        "etablissement": "LYC",
        "situation": "prévenu, D.422 autorisée après avis favorable du magistrat (fonds attendus)",
        "identite": {
            "numero_ecrou": "61877",
            "nom": "BERNARD",
            "prenoms": "Hugo",
            "date_naissance": datetime.date(1990, 2, 14),
            "statut_penal": StatutPenal.PREVENU,
        },
    },
    {
        "cle": "prive",
        "etablissement": "LYC",
        "situation": "condamné privé de subsides (sanction disciplinaire)",
        "identite": {
            "numero_ecrou": "60455",
            "nom": "FAURE",
            "prenoms": "Mehdi",
            "date_naissance": datetime.date(1984, 7, 7),
            "statut_penal": StatutPenal.CONDAMNE,
        },
    },
]

OBJET_D422_DEMANDEE = "Prothèse dentaire (bridge) non prise en charge par l'assurance maladie"
OBJET_D422_AUTORISEE = "Ordinateur portable pour une formation à distance (DAEU)"


def _mois_precedent(jour: datetime.date, decalage: int, quantieme: int = 5) -> datetime.date:
    """The `quantieme`-th day of the month `decalage` months before `jour`'s."""
    annee, mois = divmod(jour.year * 12 + jour.month - 1 - decalage, 12)
    return datetime.date(annee, mois + 1, quantieme)


class Command(BaseCommand):
    help = (
        "Crée (ou complète) les données de démonstration de la régie : deux établissements, "
        "leurs agents, des personnes détenues dans des situations typiques. "
        "Peut être relancée sans rien dupliquer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--mot-de-passe",
            default=MOT_DE_PASSE_PAR_DEFAUT,
            help=f"Mot de passe des comptes du personnel (défaut : {MOT_DE_PASSE_PAR_DEFAUT}).",
        )
        parser.add_argument(
            "--superutilisateur",
            action="store_true",
            help="Crée aussi un superutilisateur « admin » avec ce mot de passe.",
        )

    def handle(self, *args, **options):
        self.mot_de_passe = options["mot_de_passe"]
        self.ecritures_passees = 0
        self.ecritures_existantes = 0
        self.aujourdhui = aujourdhui()
        with transaction.atomic():
            if Group.objects.filter(name__in=[REGISSEUR, CHEF]).count() < 2:
                synchroniser_roles(Group, Permission)  # e.g. after a `flush`
            etablissements = {
                donnees["code"]: self._etablissement(donnees) for donnees in ETABLISSEMENTS
            }
            agents = {
                (role, code): self._agent(username, role, etablissements[code], prenom, nom)
                for username, role, code, prenom, nom in PERSONNEL
            }
            if options["superutilisateur"]:
                self._superutilisateur()
            detenus = {}
            for donnees in DETENUS:
                etablissement = etablissements[donnees["etablissement"]]
                regisseur = agents[(REGISSEUR, etablissement.code)]
                chef = agents[(CHEF, etablissement.code)]
                detenu = self._detenu(etablissement, regisseur, donnees)
                getattr(self, f"_scenario_{donnees['cle']}")(detenu, regisseur, chef)
                detenus[donnees["cle"]] = detenu
        self._resume(etablissements, detenus, options["superutilisateur"])

    # --- Objects looked up by natural key ---------------------------------------------

    def _etablissement(self, donnees: dict) -> Etablissement:
        banque, guichet, compte = donnees["rib"]
        iban = IBAN.generate("FR", bank_code=banque, branch_code=guichet, account_code=compte)
        etablissement = Etablissement.objects.filter(code=donnees["code"]).first()
        if etablissement is None:
            etablissement = Etablissement(
                code=donnees["code"],
                nom=donnees["nom"],
                regie_titulaire=donnees["regie_titulaire"],
                regie_iban=iban.compact,
                plafond_par_virement=donnees["plafond_par_virement"],
                plafond_mensuel_par_detenu=donnees["plafond_mensuel_par_detenu"],
                plafond_mensuel_par_emetteur=donnees["plafond_mensuel_par_emetteur"],
            )
            etablissement.full_clean()
            etablissement.save()
        return etablissement

    def _agent(self, username: str, role: str, etablissement: Etablissement, prenom, nom):
        Utilisateur = get_user_model()
        utilisateur, _ = Utilisateur.objects.get_or_create(
            username=username,
            defaults={
                "first_name": prenom,
                "last_name": nom,
                "email": f"{username}@pecule.example",
            },
        )
        utilisateur.is_staff = True
        utilisateur.is_active = True
        utilisateur.set_password(self.mot_de_passe)
        utilisateur.save()
        utilisateur.groups.add(Group.objects.get(name=role))
        Affectation.objects.get_or_create(utilisateur=utilisateur, etablissement=etablissement)
        return Utilisateur.objects.get(pk=utilisateur.pk)  # fresh permission cache

    def _superutilisateur(self) -> None:
        Utilisateur = get_user_model()
        admin, _ = Utilisateur.objects.get_or_create(
            username="admin", defaults={"email": "admin@pecule.example"}
        )
        admin.is_staff = True
        admin.is_superuser = True
        admin.is_active = True
        admin.set_password(self.mot_de_passe)
        admin.save()

    def _detenu(self, etablissement: Etablissement, regisseur, donnees: dict) -> Detenu:
        identite = dict(donnees["identite"])
        if donnees["cle"] == "prive":
            identite["prive_de_subsides_jusquau"] = self.aujourdhui + datetime.timedelta(days=45)
        detenu = Detenu.objects.filter(
            etablissement=etablissement, numero_ecrou=identite["numero_ecrou"]
        ).first()
        if detenu is None:
            detenu = services.ecrouer(etablissement=etablissement, auteur=regisseur, **identite)
        return Detenu.objects.select_related("compte", "etablissement").get(pk=detenu.pk)

    # --- Ledger entries, through the services -----------------------------------------

    def _source(self, detenu: Detenu, numero: int | str) -> str:
        return f"demo:{detenu.numero_ecrou}:{numero}"

    def _passer(self, fonction, **kwargs) -> None:
        try:
            fonction(**kwargs)
        except EcritureDejaPassee:
            self.ecritures_existantes += 1
        else:
            self.ecritures_passees += 1

    def _recette(self, detenu, numero, montant, nature, motif, auteur, jour=None, emetteur=""):
        self._passer(
            services.encaisser_recette,
            compte=detenu.compte,
            montant=Decimal(montant),
            nature=nature,
            source=self._source(detenu, numero),
            motif=motif,
            auteur=auteur,
            date_operation=jour,
            emetteur=emetteur,
        )

    def _debit(self, detenu, numero, montant, nature, motif, auteur, jour=None):
        self._passer(
            services.debiter_part_disponible,
            compte=detenu.compte,
            montant=Decimal(montant),
            nature=nature,
            source=self._source(detenu, numero),
            motif=motif,
            auteur=auteur,
            date_operation=jour,
        )

    # --- The situations ---------------------------------------------------------------

    def _scenario_ordinaire(self, detenu, regisseur, chef):
        self._recette(
            detenu,
            1,
            "180.00",
            NatureEcriture.SALAIRE,
            "Rémunération du travail – atelier de conditionnement",
            regisseur,
        )
        self._recette(
            detenu,
            2,
            "150.00",
            NatureEcriture.SUBSIDE_PROCHE,
            "Mandat reçu d'Angela DUBOIS (mère)",
            regisseur,
            emetteur="demo:angela.dubois",
        )
        self._recette(
            detenu,
            3,
            "120.00",
            NatureEcriture.SUBSIDE_PROCHE,
            "Mandat reçu d'Angela DUBOIS (mère)",
            regisseur,
            emetteur="demo:angela.dubois",
        )
        self._debit(
            detenu,
            4,
            "45.80",
            NatureEcriture.CANTINE,
            "Cantine hebdomadaire (bon n° 2231)",
            regisseur,
        )

    def _scenario_prevenu(self, detenu, regisseur, chef):
        self._recette(
            detenu,
            1,
            "85.00",
            NatureEcriture.NUMERAIRE_ECROU,
            "Numéraire déposé à l'écrou",
            regisseur,
        )
        self._recette(
            detenu,
            2,
            "100.00",
            NatureEcriture.SUBSIDE_PROCHE,
            "Mandat reçu de Jean-Pierre MARTIN (père)",
            regisseur,
            emetteur="demo:jp.martin",
        )

    def _scenario_d422_demandee(self, detenu, regisseur, chef):
        self._recette(
            detenu,
            1,
            "220.00",
            NatureEcriture.SALAIRE,
            "Rémunération du travail – service général (cuisine)",
            regisseur,
        )
        source = self._source(detenu, "d422")
        if not AutorisationD422.objects.filter(source=source).exists():
            services.demander_d422(
                source=source,
                detenu=detenu,
                montant=Decimal("450.00"),
                objet=OBJET_D422_DEMANDEE,
                emetteur_attendu="Héloïse LEFÈVRE (sœur)",
                reliquat=ChoixReliquat.RESTITUER,
                date_demande=self.aujourdhui - datetime.timedelta(days=3),
                auteur=regisseur,
            )

    def _scenario_plafond(self, detenu, regisseur, chef):
        # A large sum two months ago fills part 1 up to its 1 000 € ceiling; this month's
        # wage then sends the part 1 levy to the part disponible.
        self._recette(
            detenu,
            1,
            "4500.00",
            NatureEcriture.AUTRE_RECETTE,
            "Indemnité de fin de contrat versée par l'ancien employeur",
            regisseur,
            jour=_mois_precedent(self.aujourdhui, 2),
        )
        self._recette(
            detenu,
            2,
            "450.00",
            NatureEcriture.SALAIRE,
            "Rémunération du travail – atelier de menuiserie",
            regisseur,
        )
        self._debit(
            detenu,
            3,
            "32.00",
            NatureEcriture.LOCATION,
            "Location du téléviseur (mois en cours)",
            regisseur,
        )

    def _scenario_pse(self, detenu, regisseur, chef):
        self._recette(
            detenu,
            1,
            "650.00",
            NatureEcriture.SALAIRE,
            "Salaire versé par l'employeur (contrat de travail sous PSE)",
            regisseur,
        )
        self._debit(
            detenu,
            2,
            "60.00",
            NatureEcriture.REMISE_DETENU,
            "Remise pour frais de transport vers le lieu de travail",
            regisseur,
        )

    def _scenario_d422_autorisee(self, detenu, regisseur, chef):
        self._recette(
            detenu,
            1,
            "60.00",
            NatureEcriture.NUMERAIRE_ECROU,
            "Numéraire déposé à l'écrou",
            regisseur,
        )
        source = self._source(detenu, "d422")
        autorisation = AutorisationD422.objects.filter(source=source).first()
        if autorisation is None:
            autorisation = services.demander_d422(
                source=source,
                detenu=detenu,
                montant=Decimal("600.00"),
                objet=OBJET_D422_AUTORISEE,
                emetteur_attendu="Paul BERNARD (père)",
                reliquat=ChoixReliquat.REPARTIR,
                date_demande=self.aujourdhui - datetime.timedelta(days=12),
                auteur=regisseur,
            )
        if autorisation.statut == StatutD422.DEMANDEE and not autorisation.magistrat_decision:
            autorisation = services.enregistrer_decision_magistrat(
                autorisation=autorisation,
                decision=DecisionMagistrat.FAVORABLE,
                magistrat_nom="Mme Claire Vasseur, juge d'instruction au TJ de Lyon",
                reference="Avis n° JI-LYON-0412",
                date_decision=self.aujourdhui - datetime.timedelta(days=6),
                auteur=regisseur,
            )
        if autorisation.statut == StatutD422.DEMANDEE:
            services.decider_d422(
                autorisation=autorisation,
                accorder=True,
                motif="Formation qualifiante validée par le SPIP ; aucune partie civile connue ; "
                "avis favorable du magistrat instructeur.",
                auteur=chef,
            )

    def _scenario_prive(self, detenu, regisseur, chef):
        # Deprived of subsidies from relatives; his wages are still credited.
        self._recette(
            detenu,
            1,
            "140.00",
            NatureEcriture.SALAIRE,
            "Rémunération du travail – buanderie",
            regisseur,
        )

    # --- Summary ----------------------------------------------------------------------

    def _resume(self, etablissements, detenus, superutilisateur: bool) -> None:
        ecrire = self.stdout.write
        ecrire(
            self.style.SUCCESS(
                f"Données de démonstration prêtes : {self.ecritures_passees} écriture(s) "
                f"passée(s), {self.ecritures_existantes} déjà présente(s)."
            )
        )
        ecrire("\nÉtablissements :")
        for etablissement in etablissements.values():
            emetteur = etablissement.plafond_mensuel_par_emetteur
            ecrire(
                f"  {etablissement.code} – {etablissement.nom} – IBAN "
                f"{IBAN(etablissement.regie_iban).formatted}\n"
                f"      plafonds : {_euros(etablissement.plafond_par_virement)} par virement, "
                f"{_euros(etablissement.plafond_mensuel_par_detenu)} par mois et par personne "
                "détenue" + (f", {_euros(emetteur)} par mois et par proche" if emetteur else "")
            )
        ecrire("\nPersonnes détenues :")
        situations = {donnees["cle"]: donnees["situation"] for donnees in DETENUS}
        for cle, detenu in detenus.items():
            compte = detenu.compte
            compte.refresh_from_db()
            bloque = (
                f" (dont {_euros(compte.part_disponible_bloquee)} bloqués)"
                if compte.part_disponible_bloquee
                else ""
            )
            ecrire(
                f"  {detenu.etablissement.code} écrou {detenu.numero_ecrou} – {detenu.nom} "
                f"{detenu.prenoms} : {situations[cle]}\n"
                f"      parties civiles {_euros(compte.parties_civiles)}, pécule "
                f"{_euros(compte.pecule_liberation)}, part disponible "
                f"{_euros(compte.part_disponible)}{bloque} – "
                f"{Ecriture.objects.filter(compte=compte).count()} écriture(s)"
            )
            if detenu.prive_de_subsides_jusquau:
                ecrire(
                    f"      privé de subsides jusqu'au {detenu.prive_de_subsides_jusquau:%d/%m/%Y}"
                )
        ecrire(f"\nComptes du personnel (mot de passe : {self.mot_de_passe}) :")
        for username, role, code, prenom, nom in PERSONNEL:
            ecrire(f"  {username:<18} {role} – {etablissements[code].nom} ({prenom} {nom})")
        if superutilisateur:
            ecrire(f"  {'admin':<18} superutilisateur, tous les établissements")
        self._identites_franceconnect()

    def _identites_franceconnect(self) -> None:
        chemin = settings.BASE_DIR / "oidc" / "identities.json"
        try:
            identites = json.loads(chemin.read_text(encoding="utf-8"))["identities"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        lignes = [
            f"  {identite['login']} / {identite['password']} – {identite.get('label', '')}"
            for identite in identites
            if isinstance(identite, dict) and "login" in identite and "password" in identite
        ]
        if lignes:
            self.stdout.write(
                "\nProches : connexion par FranceConnect (fournisseur de test local), "
                "identités disponibles :"
            )
            for ligne in lignes:
                self.stdout.write(ligne)
