"""Benchmark of the relatives' history page under load, against a bare view.

    .venv/bin/python bench/bench_historique.py [--utilisateurs 50] [--virements 30]
                                               [--requetes 1000] [--reflexion 1] [--tours 3]

Not a test. Setup (not measured): the benchmark database (its name must contain "bench")
is dropped, created and migrated; `--utilisateurs` relatives, each with a detainee, a
registered permit and `--virements` transfers over the last six months in the states a
relative sees (60 % credited, each with its ledger entry through
`regie.services.encaisser_recette`), and one logged-in session per relative (the session
FranceConnect's login would leave). Then the portal under gunicorn (3 sync workers,
DATABASE_CONN_MAX_AGE as in production) on 127.0.0.1:`--port`.

Measured, `--tours` interleaved rounds: `--utilisateurs` users at once (bench/charge.py),
each asking for their own history page (GET /espace/pecule/historique/, the page of the
last six months) and reading it `--reflexion` seconds before asking again (0: at once,
a stress test), `--requetes` requests in all; then the same users on the reference, a bare
Django view through the same middleware (`bench/reference.py`). Prints the requests per
second and the p50/p95/p99 latency of each, and the ratio of the p95s.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))
from bench.outils import Gunicorn, nombre_fr  # noqa: E402 (after the path above)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pecule_bench_historique")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

GRAINE = 20261203
CHEMIN = "/espace/pecule/historique/"
CHEMIN_REFERENCE = "/__bench__/vide/"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--utilisateurs", type=int, default=50, help="proches simultanés")
    parser.add_argument("--virements", type=int, default=30, help="virements par proche")
    parser.add_argument("--requetes", type=int, default=1000, help="requêtes par tour et par page")
    parser.add_argument(
        "--reflexion", type=float, default=1.0, help="secondes de lecture entre deux pages"
    )
    parser.add_argument("--tours", type=int, default=3, help="tours entrelacés")
    parser.add_argument("--gunicorn", type=int, default=3, help="processus gunicorn")
    parser.add_argument("--port", type=int, default=9320, help="port de gunicorn")
    parser.add_argument("--force", action="store_true", help="accepter une base sans « bench »")
    args = parser.parse_args()
    if min(args.utilisateurs, args.virements, args.requetes, args.tours, args.gunicorn) < 1:
        parser.error("les nombres doivent être strictement positifs")
    return args


def recreer_base(url: str, force: bool) -> str:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parametres = conninfo_to_dict(url)
    nom = parametres.get("dbname") or ""
    if "bench" not in nom and not force:
        raise SystemExit(f"La base {nom!r} ne contient pas « bench » : refusé (--force).")
    maintenance = make_conninfo(**{**parametres, "dbname": "postgres"})
    with psycopg.connect(maintenance, autocommit=True) as connexion:
        connexion.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(nom)))
        connexion.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(nom)))
    return nom


def preparer(utilisateurs: int, par_proche: int) -> list[str]:
    """The relatives, their detainees, permits and transfers; returns one session key
    per relative."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.utils import timezone

    from comptes.models import Utilisateur
    from pecule.models import StatutPaiement, StatutRegie, Virement
    from permis.models import PermisDeVisite, PermisEnregistre, StatutPermis
    from regie import services as regie_services
    from regie.models import CompteNominatif, Detenu, Etablissement, NatureEcriture

    hasard = random.Random(GRAINE)
    maintenant = timezone.now()
    etablissement = Etablissement.objects.create(
        code="BENCH-HIST",
        nom="Centre pénitentiaire de mesure",
        regie_titulaire="Régie de mesure",
        regie_iban="FR7630006000011234567890189",
    )
    etats = [
        ((StatutPaiement.EXECUTE, StatutRegie.CREDITE), 60),
        ((StatutPaiement.EXECUTE, StatutRegie.A_CREDITER), 10),
        ((StatutPaiement.AUTORISE, StatutRegie.AUCUN), 10),
        ((StatutPaiement.REFUSE, StatutRegie.AUCUN), 8),
        ((StatutPaiement.ANNULE, StatutRegie.AUCUN), 6),
        ((StatutPaiement.EXPIRE, StatutRegie.AUCUN), 6),
    ]
    sessions = []
    backend = "comptes.auth.FranceConnectBackend"  # the backend of a FranceConnect login
    for n in range(utilisateurs):
        proche = Utilisateur.objects.create(
            username=f"bench-historique-{n}",
            fc_sub=f"bench-historique-{n}",
            fc_given_name="Dominique",
            fc_family_name=f"PROCHE{n:03d}",
            fc_birthdate=datetime.date(1970, 1, 1) + datetime.timedelta(days=n),
        )
        detenu = Detenu.objects.create(
            etablissement=etablissement,
            numero_ecrou=f"H{n:05d}",
            nom=f"MESURE{n:03d}",
            prenoms="Camille",
            date_naissance=datetime.date(1985, 1, 1),
        )
        compte = CompteNominatif.objects.create(detenu=detenu)
        permis = PermisDeVisite.objects.create(
            numero=f"PV-H{n:05d}",
            etablissement=etablissement,
            detenu=detenu,
            titulaire_nom=proche.fc_family_name,
            titulaire_prenoms=proche.fc_given_name,
            titulaire_date_naissance=proche.fc_birthdate,
            date_debut=datetime.date(2025, 1, 1),
            statut=StatutPermis.ACTIF,
        )
        PermisEnregistre.objects.create(proche=proche, permis=permis)
        virements = []
        for i in range(par_proche):
            (paiement, regie), _ = hasard.choices(etats, weights=[p for _, p in etats])[0]
            montant = Decimal(hasard.randint(500, 30000)) / 100
            ecriture = None
            if regie == StatutRegie.CREDITE:
                ecriture = regie_services.encaisser_recette(
                    compte=compte,
                    montant=montant,
                    nature=NatureEcriture.SUBSIDE_PROCHE,
                    source=f"bench-historique:{n}:{i}",
                    motif="Virement de mesure",
                    auteur_systeme="bench",
                    emetteur=f"proche:{proche.pk}",
                )
            virements.append(
                Virement(
                    cle_idempotence=f"bench-historique-{n}-{i}",
                    proche=proche,
                    permis=permis,
                    detenu=detenu,
                    etablissement=etablissement,
                    montant=montant,
                    fournisseur="bench",
                    id_fournisseur=f"bench-historique-{n}-{i}",
                    statut_paiement=paiement,
                    statut_regie=regie,
                    ecriture=ecriture,
                    cree_le=maintenant
                    - datetime.timedelta(seconds=hasard.randint(60, 175 * 86400)),
                )
            )
        Virement.objects.bulk_create(virements)
        session = SessionStore()
        session[SESSION_KEY] = str(proche.pk)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = proche.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    with connection.cursor() as curseur:
        curseur.execute("ANALYZE")
    return sessions


def main() -> int:
    args = arguments()
    nom = recreer_base(os.environ["DATABASE_URL"], args.force)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=RACINE,
        check=True,
        timeout=600,
    )
    import django

    django.setup()
    from django.db import connection

    from bench.charge import centile, charger, requete

    print(f"Base {nom} ; préparation : {args.utilisateurs} proches × {args.virements} virements…")
    sessions = preparer(args.utilisateurs, args.virements)
    connection.close()

    dossier = Path(tempfile.mkdtemp(prefix="bench-historique-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.reglages_reference",
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "600"),
    }
    gunicorn = Gunicorn(
        env, args.gunicorn, dossier / "gunicorn.log", args.port, sonde=CHEMIN_REFERENCE
    )
    hote = f"127.0.0.1:{args.port}"
    try:
        gunicorn.attendre()
        # Each user's own page, with their session; the first answer must be the page.
        pages = [
            requete("GET", CHEMIN, hote=hote, entetes={"Cookie": f"sessionid={cle}"})
            for cle in sessions
        ]
        essai = charger("127.0.0.1", args.port, pages[:1], concurrence=1)
        if essai.reussies() != 1:
            journal = (dossier / "gunicorn.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"la page d'historique répond {essai.reponses[0][3]}\n{journal}")
        charger("127.0.0.1", args.port, pages, concurrence=args.utilisateurs)  # warm-up
        print(
            f"Machine : {os.cpu_count()} cœurs ; Python {platform.python_version()} ; "
            f"gunicorn {args.gunicorn} processus sync ; {args.utilisateurs} proches simultanés, "
            f"{nombre_fr(args.reflexion, 1)} s de lecture entre deux pages ; "
            f"{args.requetes} requêtes par tour"
        )
        print(
            "tour | historique req/s | p50 | p95 | p99 (ms) | référence req/s | p50 | p95 | "
            "p99 (ms) | rapport des p95"
        )
        rapports, p95s = [], []
        for tour in range(1, args.tours + 1):
            mesures = []
            for chemin in (CHEMIN, CHEMIN_REFERENCE):
                requetes = [
                    requete(
                        "GET",
                        chemin,
                        hote=hote,
                        entetes={"Cookie": f"sessionid={sessions[i % len(sessions)]}"},
                    )
                    for i in range(args.requetes)
                ]
                resultat = charger(
                    "127.0.0.1",
                    args.port,
                    requetes,
                    concurrence=args.utilisateurs,
                    pause=args.reflexion,
                )
                if resultat.reussies() != len(requetes):
                    raise SystemExit(f"{chemin} : {len(requetes) - resultat.reussies()} échecs")
                mesures.append(resultat)
            colonnes = []
            for resultat in mesures:
                latences = resultat.latences()
                colonnes.append(
                    f"{nombre_fr(resultat.par_seconde())} | "
                    + " | ".join(nombre_fr(centile(latences, p) * 1000, 1) for p in (50, 95, 99))
                )
            p95 = [centile(r.latences(), 95) for r in mesures]
            p95s.append(p95[0] * 1000)
            rapports.append(p95[0] / p95[1])
            print(f"{tour} | {colonnes[0]} | {colonnes[1]} | {nombre_fr(rapports[-1], 2)}×")
        print(
            f"médiane : historique p95 {nombre_fr(statistics.median(p95s), 1)} ms, "
            f"rapport des p95 {nombre_fr(statistics.median(rapports), 2)}×"
        )
    finally:
        gunicorn.arreter()
        shutil.rmtree(dossier, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
