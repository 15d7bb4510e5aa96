"""Visit permits of the demo (after `donnees_demo`): issued to the local FranceConnect
stand-in's test identities, so that a tester can register them. Safe to run twice."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from permis.models import PermisDeVisite, StatutPermis
from permis.services import creer_permis
from regie.models import Detenu

# (establishment code, permit number, detainee's écrou, holder as on FranceConnect, status)
PERMIS_DEMO = [
    (
        "FRE",
        "PV-FRE-0001",
        "194512",
        ("DUBOIS", "Angela Claire Louise", "1962-08-24"),
        StatutPermis.ACTIF,
    ),
    ("FRE", "PV-FRE-0002", "195087", ("MARTIN", "Jean-Pierre", "1975-03-14"), StatutPermis.ACTIF),
    (
        "FRE",
        "PV-FRE-0003",
        "193640",
        ("LEFÈVRE", "Héloïse Éléonore", "1990-11-02"),
        StatutPermis.ACTIF,
    ),
    (
        "FRE",
        "PV-FRE-0009",
        "189931",
        ("DUBOIS", "Angela Claire Louise", "1962-08-24"),
        StatutPermis.SUSPENDU,
    ),
    ("LYC", "PV-LYC-0001", "61877", ("BERNARD", "Paul", "1958-01-30"), StatutPermis.ACTIF),
    ("LYC", "PV-LYC-0002", "60455", ("MARTIN", "Jean-Pierre", "1975-03-14"), StatutPermis.ACTIF),
]


class Command(BaseCommand):
    help = "Crée les permis de visite de démonstration (après donnees_demo)."

    @transaction.atomic
    def handle(self, *args, **options):
        crees = 0
        for code, numero, ecrou, (nom, prenoms, naissance), statut in PERMIS_DEMO:
            detenu = Detenu.objects.filter(etablissement__code=code, numero_ecrou=ecrou).first()
            if detenu is None:
                raise CommandError("Lancez d'abord « manage.py donnees_demo ».")
            if PermisDeVisite.objects.filter(
                etablissement=detenu.etablissement, numero=numero
            ).exists():
                continue
            creer_permis(
                etablissement=detenu.etablissement,
                numero=numero,
                detenu=detenu,
                titulaire_nom=nom,
                titulaire_prenoms=prenoms,
                titulaire_date_naissance=datetime.date.fromisoformat(naissance),
                date_debut=datetime.date(2026, 1, 1),
                statut=statut,
                motif_statut="Démonstration" if statut != StatutPermis.ACTIF else "",
            )
            crees += 1
        self.stdout.write("Permis de visite de démonstration (numéro – écrou – titulaire) :")
        for code, numero, ecrou, (nom, prenoms, _), statut in PERMIS_DEMO:
            self.stdout.write(f"  {numero} – {code} écrou {ecrou} – {prenoms} {nom} ({statut})")
        self.stdout.write(f"{crees} permis créé(s).")
