"""Benchmark of the relatives' PDF statements on PostgreSQL.

    .venv/bin/python bench/bench_documents.py [--virements 300] [--rendus 10]
                                              [--workers 1,2] [--duree 45]

1. Preparation (not measured): one establishment, two detainees, one relative with a
   permit for each, and `--virements` transfers over the last six months in every state
   a relative sees (fixed seed). The bench relative's previous transfers and statements
   are deleted first; nothing else in the database is touched.
2. Render time: `--rendus` times (after one warm-up), the six-month statement of all
   the relative's transfers: the data (the query shared with the HTML history), then the
   PDF (WeasyPrint, PDF/UA). Prints the mean, min and max, the pages and the size; and
   the same for the whole task (`pecule.releves.services.produire`: data, PDF, file
   written under MEDIA_ROOT, row updated).
3. Against the reference, `--tours` interleaved rounds: the processor time of the
   statement's PDF (from the same data) beside that of a plain WeasyPrint table of the
   same rows (date, reference, detainee, amount, state; no fonts, no tagging), and the
   ratio.
4. Throughput: for each number of worker processes, each process produces statements
   (a new request row, then `produire`, like the Celery task) for `--duree` seconds;
   prints the statements per minute.

Not a test. The files go to a temporary MEDIA_ROOT, removed at the end. The database is
DATABASE_URL (default: postgres://postgres@127.0.0.1:5432/pecule_bench), created if
missing and migrated.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pecule_bench")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

GRAINE = 20261122
CODE_ETABLISSEMENT = "BENCH-DOC"
SUB_PROCHE = "bench-documents"
# State of each transfer (what the relative sees), with its weight.
ETATS = [
    ("credite", 60),
    ("confirme", 10),
    ("en_attente", 10),
    ("refuse", 8),
    ("annule", 6),
    ("expire", 6),
]
# No « retourné » transfer: since money out, a returned transfer needs its payment order
# (constraint virement_retourne_a_un_ordre), which this bench does not build.


def arguments() -> argparse.Namespace:
    parseur = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parseur.add_argument("--virements", type=int, default=300)
    parseur.add_argument("--rendus", type=int, default=10)
    parseur.add_argument("--workers", default="1,2")
    parseur.add_argument("--duree", type=float, default=45.0)
    parseur.add_argument("--tours", type=int, default=3)
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


def preparer(nombre: int) -> int:
    """The bench relative and their transfers; returns the relative's id."""
    import uuid

    from django.utils import timezone

    from comptes.models import Utilisateur
    from pecule.models import ReleveProche, StatutPaiement, StatutRegie, Virement
    from permis import services as permis_services
    from permis.models import PermisDeVisite, PermisEnregistre
    from regie import services as regie_services
    from regie.models import CompteNominatif, Detenu, Etablissement, NatureEcriture

    etablissement, _ = Etablissement.objects.get_or_create(
        code=CODE_ETABLISSEMENT,
        defaults={
            "nom": "Centre pénitentiaire de mesure",
            "regie_titulaire": "Régie de mesure",
            "regie_iban": "FR7630006000011234567890189",
        },
    )
    proche, _ = Utilisateur.objects.get_or_create(
        fc_sub=SUB_PROCHE,
        defaults={
            "username": SUB_PROCHE,
            "fc_given_name": "Angela Claire Louise",
            "fc_family_name": "DUBOIS",
            "fc_birthdate": datetime.date(1962, 8, 24),
        },
    )
    detenus = []
    for numero, (nom, prenoms) in enumerate((("MARTIN", "Paul"), ("BERNARD", "Luc")), 1):
        detenu, cree = Detenu.objects.get_or_create(
            etablissement=etablissement,
            numero_ecrou=f"BENCH{numero}",
            defaults={"nom": nom, "prenoms": prenoms, "date_naissance": datetime.date(1980, 5, 17)},
        )
        if cree:
            CompteNominatif.objects.create(detenu=detenu)
        permis = PermisDeVisite.objects.filter(
            etablissement=etablissement, numero=f"PV-BENCH{numero}"
        ).first()
        if permis is None:
            permis = permis_services.creer_permis(
                etablissement=etablissement,
                numero=f"PV-BENCH{numero}",
                detenu=detenu,
                titulaire_nom=proche.fc_family_name,
                titulaire_prenoms=proche.fc_given_name,
                titulaire_date_naissance=proche.fc_birthdate,
                date_debut=datetime.date(2025, 1, 1),
            )
            PermisEnregistre.objects.get_or_create(proche=proche, permis=permis)
        detenus.append((detenu, permis))

    for releve in ReleveProche.objects.filter(proche=proche):
        releve.fichier.delete(save=False)
        releve.delete()
    Virement.objects.filter(proche=proche).delete()

    hasard = random.Random(GRAINE)
    maintenant = timezone.now()
    run = uuid.uuid4().hex[:8]
    statuts = {
        "credite": (StatutPaiement.EXECUTE, StatutRegie.CREDITE),
        "confirme": (StatutPaiement.EXECUTE, StatutRegie.A_CREDITER),
        "en_attente": (StatutPaiement.AUTORISE, StatutRegie.AUCUN),
        "refuse": (StatutPaiement.REFUSE, StatutRegie.AUCUN),
        "annule": (StatutPaiement.ANNULE, StatutRegie.AUCUN),
        "expire": (StatutPaiement.EXPIRE, StatutRegie.AUCUN),
    }
    virements = []
    for i in range(nombre):
        etat = hasard.choices([e for e, _ in ETATS], weights=[p for _, p in ETATS])[0]
        detenu, permis = detenus[hasard.random() < 0.3]
        montant = Decimal(hasard.randint(500, 30000)) / 100
        ecriture = None
        if etat == "credite":
            ecriture = regie_services.encaisser_recette(
                compte=detenu.compte,
                montant=montant,
                nature=NatureEcriture.SUBSIDE_PROCHE,
                source=f"bench-documents:{run}:{i}",
                motif="Virement de mesure",
                auteur_systeme="bench",
            )
        paiement, regie = statuts[etat]
        virements.append(
            Virement(
                cle_idempotence=f"bench-{run}-{i}",
                proche=proche,
                permis=permis,
                detenu=detenu,
                etablissement=etablissement,
                montant=montant,
                fournisseur="bench",
                id_fournisseur=f"bench-{run}-{i}",
                statut_paiement=paiement,
                statut_regie=regie,
                ecriture=ecriture,
                cree_le=maintenant - datetime.timedelta(seconds=hasard.randint(60, 180 * 86400)),
            )
        )
    Virement.objects.bulk_create(virements)
    return proche.pk


def nouveau_releve(proche_id: int):
    from django.utils import timezone

    from pecule.models import ReleveProche
    from pecule.releves import services

    maintenant = timezone.now()
    debut, fin = services.periode_des_six_derniers_mois(maintenant)
    return ReleveProche.objects.create(
        proche_id=proche_id,
        debut=debut,
        fin=fin,
        demande_le=maintenant,
        expire_le=maintenant + services.retention(),
    )


def mesurer_rendu(proche_id: int, rendus: int) -> None:
    import io

    from django.utils import timezone
    from pypdf import PdfReader

    from pecule.releves import services

    releve = nouveau_releve(proche_id)
    durees_donnees, durees_pdf, cpu = [], [], []
    pdf = b""
    for i in range(rendus + 1):
        debut, debut_cpu = time.perf_counter(), time.process_time()
        donnees = services.donnees_releve(releve)
        milieu = time.perf_counter()
        pdf = services.pdf_releve(donnees, emis_le=timezone.now())
        fin = time.perf_counter()
        if i:  # the first one warms the caches (fonts, templates)
            durees_donnees.append(milieu - debut)
            durees_pdf.append(fin - milieu)
            cpu.append(time.process_time() - debut_cpu)
    totaux = [a + b for a, b in zip(durees_donnees, durees_pdf, strict=True)]
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(
        f"Relevé de {len(donnees['virements'])} virements : {pages} pages, "
        f"{len(pdf) / 1024:.0f} Kio"
    )
    print(
        f"  rendu (données + PDF), moyenne de {rendus} : {statistics.mean(totaux):.3f} s "
        f"(min {min(totaux):.3f}, max {max(totaux):.3f}) ; "
        f"dont données {statistics.mean(durees_donnees) * 1000:.0f} ms, "
        f"PDF {statistics.mean(durees_pdf):.3f} s"
    )
    print(
        f"  temps processeur du rendu (indépendant de la charge de la machine), moyenne : "
        f"{statistics.mean(cpu):.3f} s (min {min(cpu):.3f})"
    )
    taches = []
    for _ in range(rendus):
        releve = nouveau_releve(proche_id)
        debut = time.perf_counter()
        services.produire(releve.pk)
        taches.append(time.perf_counter() - debut)
    print(
        f"  tâche complète (produire : données, PDF, fichier, ligne), moyenne de {rendus} : "
        f"{statistics.mean(taches):.3f} s (min {min(taches):.3f}, max {max(taches):.3f})"
    )


def pdf_reference(donnees: dict) -> bytes:
    """The reference: the same rows in a plain HTML table, WeasyPrint's defaults."""
    from html import escape

    import weasyprint

    lignes = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(valeur))}</td>"
            for valeur in (
                ligne["date"][:16].replace("T", " "),
                ligne["reference"],
                f"{ligne['detenu']['prenoms']} {ligne['detenu']['nom']}",
                ligne["montant"],
                ligne["etat"],
            )
        )
        + "</tr>"
        for ligne in donnees["virements"]
    )
    html = (
        "<html><head><meta charset='utf-8'><title>Relevé</title></head><body>"
        "<h1>Relevé de vos virements</h1><table><thead><tr><th>Date</th><th>Référence</th>"
        "<th>Personne détenue</th><th>Montant</th><th>État</th></tr></thead>"
        f"<tbody>{lignes}</tbody></table></body></html>"
    )
    return weasyprint.HTML(string=html).write_pdf()


def mesurer_contre_reference(proche_id: int, tours: int) -> None:
    import io

    from django.utils import timezone
    from pypdf import PdfReader

    from pecule.releves import services

    donnees = services.donnees_releve(nouveau_releve(proche_id))
    emis_le = timezone.now()
    services.pdf_releve(donnees, emis_le=emis_le)  # warm-up: fonts, templates
    pdf_reference(donnees)
    print(
        f"Contre la référence (un tableau WeasyPrint simple des mêmes "
        f"{len(donnees['virements'])} lignes), {tours} tours entrelacés, temps processeur :"
    )
    print("tour | relevé (s) | pages | référence (s) | pages | rapport")
    rapports = []
    for tour in range(1, tours + 1):
        debut = time.process_time()
        pdf = services.pdf_releve(donnees, emis_le=emis_le)
        releve = time.process_time() - debut
        debut = time.process_time()
        reference = pdf_reference(donnees)
        duree_reference = time.process_time() - debut
        rapports.append(releve / duree_reference)
        print(
            f"{tour} | {releve:.2f} | {len(PdfReader(io.BytesIO(pdf)).pages)} | "
            f"{duree_reference:.2f} | {len(PdfReader(io.BytesIO(reference)).pages)} | "
            f"{rapports[-1]:.2f}×",
            flush=True,
        )
    print(f"rapport médian : {statistics.median(rapports):.2f}×")


def travailleur(proche_id: int, duree: float, depart, resultats) -> None:
    import django

    django.setup()
    from pecule.releves import services

    services.produire(nouveau_releve(proche_id).pk)  # warm-up, not counted
    depart.wait()
    fin = time.perf_counter() + duree
    produits = 0
    while time.perf_counter() < fin:
        services.produire(nouveau_releve(proche_id).pk)
        produits += 1
    resultats.put(produits)


def charge() -> str:
    try:
        return ", ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def mesurer_debit(proche_id: int, workers: int, duree: float) -> None:
    contexte = mp.get_context("spawn")
    depart = contexte.Barrier(workers + 1)
    resultats = contexte.Queue()
    processus = [
        contexte.Process(target=travailleur, args=(proche_id, duree, depart, resultats))
        for _ in range(workers)
    ]
    for p in processus:
        p.start()
    depart.wait()
    debut = time.perf_counter()
    total = sum(resultats.get() for _ in processus)
    ecoule = time.perf_counter() - debut
    for p in processus:
        p.join()
    print(
        f"  {workers} processus : {total} relevés en {ecoule:.1f} s, "
        f"soit {total / ecoule * 60:.1f} relevés par minute (charge moyenne {charge()})"
    )


def main() -> None:
    options = arguments()
    creer_base_si_absente(os.environ["DATABASE_URL"])
    medias = tempfile.mkdtemp(prefix="pecule-bench-documents-")
    os.environ["PECULE_MEDIA_ROOT"] = medias
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import weasyprint
    from django.db import connection

    print(
        f"Machine : {os.cpu_count()} cœurs, {platform.processor() or platform.machine()} ; "
        f"Python {platform.python_version()}, WeasyPrint {weasyprint.__version__} ; "
        f"charge moyenne au départ {charge()}"
    )
    proche_id = None
    try:
        proche_id = preparer(options.virements)
        connection.close()
        mesurer_rendu(proche_id, options.rendus)
        mesurer_contre_reference(proche_id, options.tours)
        connection.close()
        print(f"Débit (chaque processus produit des relevés pendant {options.duree:.0f} s) :")
        for workers in [int(n) for n in options.workers.split(",")]:
            mesurer_debit(proche_id, workers, options.duree)
    finally:
        from pecule.models import ReleveProche

        if proche_id is not None:
            ReleveProche.objects.filter(proche_id=proche_id).delete()
        shutil.rmtree(medias, ignore_errors=True)


if __name__ == "__main__":
    main()
