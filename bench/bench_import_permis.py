"""Benchmark of the CSV import of visit permits through the back-office, on PostgreSQL.

    .venv/bin/python bench/bench_import_permis.py [--lignes 5000] [--repetitions 1]

1. Preparation (not measured): one establishment (code BENCH-PERMIS) with `--lignes`
   detainees, a régisseur attached to it; its permits and their history are deleted
   first; nothing else in the database is touched.
2. Measure, through the admin's own pages (Django test client, one request each, as a
   régisseur's browser): the upload and its preview (`import/`), then the confirmation
   (`process_import/`), of a file of `--lignes` new permits; then the same two requests
   for the same file with every permit changed (updates). Prints each request's time and
   the rows per second.

Not a test. The database is DATABASE_URL (default:
postgres://postgres@127.0.0.1:5432/pecule_bench), created if missing and migrated.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pecule_bench")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

CODE_ETABLISSEMENT = "BENCH-PERMIS"
ENTETE = "numero;numero_ecrou;titulaire_nom;titulaire_prenoms;titulaire_date_naissance;date_debut;date_fin;statut\n"


def arguments() -> argparse.Namespace:
    parseur = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parseur.add_argument("--lignes", type=int, default=5000)
    parseur.add_argument("--repetitions", type=int, default=1)
    return parseur.parse_args()


def creer_base_si_absente(url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parametres = conninfo_to_dict(url)
    nom = parametres.get("dbname")
    maintenance = make_conninfo(**{**parametres, "dbname": "postgres"})
    with psycopg.connect(maintenance, autocommit=True) as connexion:
        if not connexion.execute("SELECT 1 FROM pg_database WHERE datname = %s", [nom]).fetchone():
            connexion.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(nom)))
            print(f"Base {nom} créée.")


def preparer(lignes: int):
    from django.contrib.auth.models import Group, Permission

    from comptes.models import Utilisateur
    from permis.models import EvenementPermis, PermisDeVisite
    from permis.roles import ajouter_permissions_permis
    from regie.models import Affectation, CompteNominatif, Detenu, Etablissement
    from regie.roles import REGISSEUR

    etablissement, _ = Etablissement.objects.get_or_create(
        code=CODE_ETABLISSEMENT,
        defaults={
            "nom": "Centre pénitentiaire de mesure des permis",
            "regie_titulaire": "Régie de mesure",
            "regie_iban": "FR7630006000011234567890189",
        },
    )
    EvenementPermis.objects.filter(permis__etablissement=etablissement).delete()
    PermisDeVisite.objects.filter(etablissement=etablissement).delete()
    existants = set(
        Detenu.objects.filter(etablissement=etablissement).values_list("numero_ecrou", flat=True)
    )
    nouveaux = [
        Detenu(
            etablissement=etablissement,
            numero_ecrou=f"B{n:06d}",
            nom=f"NOM{n}",
            prenoms="Jean",
            date_naissance=datetime.date(1980, 1, 1),
        )
        for n in range(lignes)
        if f"B{n:06d}" not in existants
    ]
    Detenu.objects.bulk_create(nouveaux, batch_size=1000)
    CompteNominatif.objects.bulk_create(
        [CompteNominatif(detenu=d) for d in nouveaux], batch_size=1000
    )
    ajouter_permissions_permis(Group, Permission)
    agent, _ = Utilisateur.objects.get_or_create(
        username="bench.permis", defaults={"is_staff": True, "fc_sub": None}
    )
    agent.groups.add(Group.objects.get(name=REGISSEUR))
    Affectation.objects.get_or_create(utilisateur=agent, etablissement=etablissement)
    return etablissement, agent


def fichier(lignes: int, nom: str) -> bytes:
    corps = "".join(
        f"PV-B{n:06d};B{n:06d};{nom};Héloïse;02/04/1985;01/01/2026;31/12/2026;actif\n"
        for n in range(lignes)
    )
    return (ENTETE + corps).encode("utf-8")


def importer(client, etablissement, contenu: bytes) -> tuple[float, float]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    debut = time.perf_counter()
    apercu = client.post(
        reverse("admin:permis_permisdevisite_import"),
        {
            "resource": "0",
            "format": "0",
            "etablissement": etablissement.pk,
            "import_file": SimpleUploadedFile("permis.csv", contenu, content_type="text/csv"),
        },
    )
    duree_apercu = time.perf_counter() - debut
    formulaire = apercu.context["confirm_form"] if apercu.context else None
    if apercu.status_code != 200 or formulaire is None:
        raise SystemExit(f"aperçu refusé ({apercu.status_code}) : {apercu.content[:2000]!r}")
    debut = time.perf_counter()
    reponse = client.post(
        reverse("admin:permis_permisdevisite_process_import"),
        {nom: formulaire.initial[nom] for nom in formulaire.fields},
    )
    duree_import = time.perf_counter() - debut
    if reponse.status_code != 302:
        raise SystemExit(f"import refusé ({reponse.status_code})")
    return duree_apercu, duree_import


def main() -> None:
    options = arguments()
    creer_base_si_absente(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client's response.context
    from permis.models import PermisDeVisite

    print(f"Machine : {platform.processor() or platform.machine()}, {os.cpu_count()} cœurs")
    for _ in range(options.repetitions):
        etablissement, agent = preparer(options.lignes)
        client = Client()
        client.force_login(agent)
        for etape, nom in (("création", "LEFÈVRE"), ("mise à jour", "MARTIN")):
            apercu, confirmation = importer(client, etablissement, fichier(options.lignes, nom))
            total = PermisDeVisite.objects.filter(etablissement=etablissement).count()
            assert total == options.lignes, total
            print(
                f"{options.lignes} permis, {etape} : aperçu {apercu:.1f} s "
                f"({options.lignes / apercu:.0f} lignes/s), confirmation {confirmation:.1f} s "
                f"({options.lignes / confirmation:.0f} lignes/s)"
            )


if __name__ == "__main__":
    main()
