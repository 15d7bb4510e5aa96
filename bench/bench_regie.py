"""Benchmark of the receipt path of the régie on PostgreSQL, against pgbench on the same
server in the same run.

    .venv/bin/python bench/bench_regie.py [--receipts 5000] [--workers 1,2] [--tours 3]

For each number of worker processes, `--tours` interleaved rounds of: empty the régie
tables, create the accounts with a balance carried over (bulk, outside the measure), then
credit the receipts through `regie.services.encaisser_recette` (row lock on the account,
répartition, balanced ledger entry, balances and monthly counter, one transaction per
receipt), split between the workers; then the reference, pgbench's built-in tpcb-like
transaction (5 statements in a transaction, one row locked) with as many clients for
`--pgbench-secondes`, on its own database of the same server. Prints each round's receipts
per second beside pgbench's transactions per second and their ratio, the p50/p99 latency
of one receipt, and checks that the stored balances equal the ledger.

Not a test: it needs a PostgreSQL server and TRUNCATEs the régie tables of its database,
so it refuses a database whose name does not contain "bench" (unless --force).
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))
from bench.charge import centile  # noqa: E402 (after the path above)
from bench.outils import nombre_fr  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pecule_bench")
# No SQL query log (DEBUG keeps every query in memory): measure what production runs.
os.environ.setdefault("DJANGO_DEBUG", "0")

GRAINE = 20260422
TABLES_REGIE = [
    "regie_ligneecriture",
    "regie_ecriture",
    "regie_evenementd422",
    "regie_autorisationd422",
    "regie_permissionsortie",
    "regie_compteurmensuel",
    "regie_comptenominatif",
    "regie_detenu",
    "regie_affectation",
    "regie_etablissement",
]

# One aggregate query: stored balances against the sum of the ledger lines, per account
# and part (and the blocked D.422 sums), listing only the accounts that differ.
SQL_COHERENCE = """
WITH sommes AS (
    SELECT e.compte_id,
           SUM(l.montant) FILTER (WHERE l.partie = 'parties_civiles') AS parties_civiles,
           SUM(l.montant) FILTER (WHERE l.partie = 'pecule_liberation') AS pecule_liberation,
           SUM(l.montant) FILTER (WHERE l.partie = 'part_disponible') AS part_disponible,
           SUM(l.montant) FILTER (WHERE l.bloque_d422_id IS NOT NULL) AS bloquee
    FROM regie_ecriture e
    JOIN regie_ligneecriture l ON l.ecriture_id = e.id
    GROUP BY e.compte_id
)
SELECT c.id,
       c.parties_civiles, COALESCE(s.parties_civiles, 0),
       c.pecule_liberation, COALESCE(s.pecule_liberation, 0),
       c.part_disponible, COALESCE(s.part_disponible, 0),
       c.part_disponible_bloquee, COALESCE(s.bloquee, 0)
FROM regie_comptenominatif c
LEFT JOIN sommes s ON s.compte_id = c.id
WHERE c.parties_civiles <> COALESCE(s.parties_civiles, 0)
   OR c.pecule_liberation <> COALESCE(s.pecule_liberation, 0)
   OR c.part_disponible <> COALESCE(s.part_disponible, 0)
   OR c.part_disponible_bloquee <> COALESCE(s.bloquee, 0)
ORDER BY c.id
"""

# Monthly counters against the subject amounts of the entries of their month.
SQL_COMPTEURS = """
SELECT m.compte_id, m.annee, m.mois, m.cumul, COALESCE(SUM(e.montant_soumis), 0)
FROM regie_compteurmensuel m
LEFT JOIN regie_ecriture e
       ON e.compte_id = m.compte_id
      AND e.mois_repartition = make_date(m.annee, m.mois, 1)
GROUP BY m.id
HAVING m.cumul <> COALESCE(SUM(e.montant_soumis), 0)
ORDER BY m.compte_id
"""


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=5000, help="nombre de recettes")
    parser.add_argument("--tours", type=int, default=3, help="tours entrelacés (recettes, pgbench)")
    parser.add_argument(
        "--pgbench-secondes", type=int, default=10, help="durée de chaque mesure pgbench"
    )
    parser.add_argument("--accounts", type=int, default=2000, help="nombre de comptes")
    parser.add_argument(
        "--workers", default="1,2", help="nombres de processus à mesurer, séparés par des virgules"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="accepter une base dont le nom ne contient pas « bench » (elle sera vidée)",
    )
    args = parser.parse_args()
    args.workers = [int(n) for n in args.workers.split(",") if n.strip()]
    if args.receipts < 1 or args.accounts < 1 or not args.workers or min(args.workers) < 1:
        parser.error("--receipts, --accounts et --workers doivent être strictement positifs")
    return args


# --- Database -------------------------------------------------------------------------


def creer_base_si_absente(url: str) -> str:
    """Create the benchmark database through the 'postgres' maintenance database."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parametres = conninfo_to_dict(url)
    nom = parametres.get("dbname")
    if not nom:
        raise SystemExit("DATABASE_URL doit nommer une base PostgreSQL.")
    maintenance = make_conninfo(**{**parametres, "dbname": "postgres"})
    with psycopg.connect(maintenance, autocommit=True) as connexion:
        existe = connexion.execute("SELECT 1 FROM pg_database WHERE datname = %s", [nom]).fetchone()
        if not existe:
            connexion.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(nom)))
            print(f"Base {nom} créée.")
    return nom


def vider_regie() -> None:
    """TRUNCATE is allowed by the append-only triggers (they forbid UPDATE and DELETE)."""
    from django.db import connection

    with connection.cursor() as curseur:
        curseur.execute(f"TRUNCATE {', '.join(TABLES_REGIE)} RESTART IDENTITY CASCADE")


def preparer_comptes(nombre: int) -> tuple[list[int], Decimal]:
    """Bulk setup (not measured): one establishment and `nombre` detainees, in a seeded mix
    of situations that exercises every branch of the répartition, each account opened with
    a balance carried over from another prison (one balanced entry, not subject to the
    répartition). Returns the account ids and the total carried over.

    The carried-over history matters: PostgreSQL caches the plans of the ledger's balance
    trigger and of the foreign-key checks per session, and plans made on empty tables are
    sequential scans that get slower with every receipt (autovacuum would re-analyze and
    fix them; it may be off on a development server)."""
    from django.db import connection, transaction

    from regie.models import (
        CompteNominatif,
        Contrepartie,
        Detenu,
        Ecriture,
        Etablissement,
        LigneEcriture,
        NatureEcriture,
        Partie,
        Regime,
        StatutPenal,
    )

    hasard = random.Random(GRAINE)
    jour_report = datetime.date.today().replace(day=1) - datetime.timedelta(days=60)
    with transaction.atomic():
        etablissement = Etablissement.objects.create(
            code="BENCH",
            nom="Établissement de mesure",
            regie_titulaire="Régie de mesure",
            regie_iban="FR7610071750000000100547160",
            plafond_par_virement=Decimal("1000.00"),
            plafond_mensuel_par_detenu=Decimal("100000.00"),
        )
        detenus, soldes = [], []
        for i in range(nombre):
            tirage = hasard.random()
            plafond = 0.6 < tirage <= 0.8  # victims compensated: part 1 ceiling applies
            detenus.append(
                Detenu(
                    etablissement=etablissement,
                    numero_ecrou=f"{900000 + i}",
                    nom=f"MESURE{i:05d}",
                    prenoms="Camille",
                    date_naissance=datetime.date(1980, 1, 1) + datetime.timedelta(days=i),
                    statut_penal=StatutPenal.PREVENU if tirage < 0.3 else StatutPenal.CONDAMNE,
                    regime=Regime.SURVEILLANCE_ELECTRONIQUE if tirage > 0.9 else Regime.ORDINAIRE,
                    victimes_indemnisees_ou_absentes=plafond,
                )
            )
            soldes.append(
                {
                    Partie.PARTIES_CIVILES: Decimal(
                        hasard.randint(90000, 110000) if plafond else hasard.randint(1, 50000)
                    )
                    / 100,
                    Partie.PECULE_LIBERATION: Decimal(hasard.randint(1, 80000)) / 100,
                    Partie.PART_DISPONIBLE: Decimal(hasard.randint(1, 30000)) / 100,
                }
            )
        detenus = Detenu.objects.bulk_create(detenus, batch_size=1000)
        comptes = CompteNominatif.objects.bulk_create(
            [
                CompteNominatif(detenu=detenu, **{str(k): v for k, v in solde.items()})
                for detenu, solde in zip(detenus, soldes, strict=True)
            ],
            batch_size=1000,
        )
        ecritures = Ecriture.objects.bulk_create(
            [
                Ecriture(
                    etablissement=etablissement,
                    compte=compte,
                    nature=NatureEcriture.TRANSFERT_ENTRANT,
                    source=f"bench:report:{compte.pk}",
                    motif="Solde reçu d'un autre établissement (mesure)",
                    date_operation=jour_report,
                    auteur_systeme="bench_regie",
                    montant=sum(solde.values()),
                )
                for compte, solde in zip(comptes, soldes, strict=True)
            ],
            batch_size=1000,
        )
        LigneEcriture.objects.bulk_create(
            [
                ligne
                for ecriture, solde in zip(ecritures, soldes, strict=True)
                for ligne in (
                    *(
                        LigneEcriture(ecriture=ecriture, partie=partie, montant=montant)
                        for partie, montant in solde.items()
                    ),
                    LigneEcriture(
                        ecriture=ecriture,
                        partie=Partie.CONTREPARTIE,
                        contrepartie=Contrepartie.ETABLISSEMENT,
                        montant=-ecriture.montant,
                    ),
                )
            ],
            batch_size=4000,
        )
    with connection.cursor() as curseur:
        curseur.execute(f"ANALYZE {', '.join(TABLES_REGIE)}")
    return [compte.pk for compte in comptes], sum(e.montant for e in ecritures)


def generer_recettes(comptes: list[int], nombre: int) -> list[tuple[int, str, str]]:
    """(account id, amount, source) in random order: the same seeded list on every run."""
    hasard = random.Random(GRAINE + 1)
    return [
        (hasard.choice(comptes), f"{Decimal(hasard.randint(500, 35000)) / 100:.2f}", f"bench:{i}")
        for i in range(nombre)
    ]


def verifier_coherence(attendues: int, total_attendu: Decimal) -> list[str]:
    from django.db import connection

    problemes = []
    with connection.cursor() as curseur:
        curseur.execute(SQL_COHERENCE)
        for compte_id, *valeurs in curseur.fetchall():
            stocke = " / ".join(str(v) for v in valeurs[0::2])
            registre = " / ".join(str(v) for v in valeurs[1::2])
            problemes.append(
                f"compte {compte_id} : soldes stockés {stocke} ≠ écritures {registre} "
                "(parties civiles / pécule / part disponible / dont bloquée)"
            )
        curseur.execute(SQL_COMPTEURS)
        for compte_id, annee, mois, cumul, somme in curseur.fetchall():
            problemes.append(f"compte {compte_id} : compteur {mois:02d}/{annee} {cumul} ≠ {somme}")
        curseur.execute("SELECT COUNT(*), COALESCE(SUM(montant), 0) FROM regie_ecriture")
        nombre, total = curseur.fetchone()
    if nombre != attendues or total != total_attendu:
        problemes.append(
            f"{nombre} écritures pour {total} € ; attendu {attendues} écritures pour "
            f"{total_attendu} €"
        )
    return problemes


# --- Workers --------------------------------------------------------------------------


def travailleur(recettes, barriere, resultats) -> None:
    """One process with its own Django setup and database connection."""
    import django

    django.setup()
    from django.db import connection

    from regie import services
    from regie.models import CompteNominatif, NatureEcriture

    connection.ensure_connection()
    latences = []
    erreurs = []
    barriere.wait()
    debut = time.monotonic()
    for compte_id, montant, source in recettes:
        t0 = time.perf_counter()
        try:
            services.encaisser_recette(
                compte=CompteNominatif(pk=compte_id),
                montant=Decimal(montant),
                nature=NatureEcriture.SUBSIDE_PROCHE,
                source=source,
                motif="Virement d'un proche (mesure de performance)",
                auteur_systeme="bench_regie",
                emetteur=f"bench:{compte_id % 7}",
            )
        except Exception as exc:  # counted and reported, the measure goes on
            erreurs.append(f"{source} : {exc!r}")
            continue
        latences.append(time.perf_counter() - t0)
    fin = time.monotonic()
    connection.close()
    resultats.put((debut, fin, latences, erreurs))


def mesurer(nombre_processus: int, recettes: list[tuple[int, str, str]]) -> dict:
    contexte = mp.get_context("spawn")  # a fresh interpreter: no inherited connection
    barriere = contexte.Barrier(nombre_processus)
    resultats = contexte.Queue()
    processus = [
        contexte.Process(
            target=travailleur, args=(recettes[i::nombre_processus], barriere, resultats)
        )
        for i in range(nombre_processus)
    ]
    for p in processus:
        p.start()
    sorties = [resultats.get() for _ in processus]  # drain before join
    for p in processus:
        p.join()
        if p.exitcode:
            raise SystemExit(f"Un processus de mesure a échoué (code {p.exitcode}).")
    latences = sorted(latence for _, _, liste, _ in sorties for latence in liste)
    erreurs = [erreur for _, _, _, liste in sorties for erreur in liste]
    duree = max(fin for _, fin, _, _ in sorties) - min(debut for debut, _, _, _ in sorties)
    return {
        "reussies": len(latences),
        "erreurs": erreurs,
        "duree": duree,
        "debit": len(latences) / duree,
        "p50": centile(latences, 50) * 1000 if latences else 0.0,
        "p99": centile(latences, 99) * 1000 if latences else 0.0,
    }


def main() -> None:
    args = arguments()
    nom_base = creer_base_si_absente(os.environ["DATABASE_URL"])
    if "bench" not in nom_base and not args.force:
        raise SystemExit(
            f"La base « {nom_base} » va être vidée : utilisez une base dont le nom contient "
            "« bench », ou --force."
        )

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as curseur:
        curseur.execute("SHOW server_version")
        version = curseur.fetchone()[0]
        curseur.execute("SHOW synchronous_commit")
        synchrone = curseur.fetchone()[0]
    print(
        f"Mesure de la régie – {datetime.date.today():%d/%m/%Y} – base {nom_base} "
        f"(PostgreSQL {version}, synchronous_commit={synchrone}) – {os.cpu_count()} cœurs – "
        f"Python {platform.python_version()}"
    )
    print(
        f"{nombre_fr(args.receipts)} recettes réparties au hasard (graine {GRAINE}) sur "
        f"{nombre_fr(args.accounts)} comptes ; chemin mesuré : services.encaisser_recette, "
        "une transaction par recette."
    )

    pgbench = Pgbench(os.environ["DATABASE_URL"])
    print(f"Référence : {pgbench.version()}, tpcb-like, base {pgbench.base} (échelle 10).")
    pgbench.initialiser()

    bilan = []
    for nombre_processus in args.workers:
        print(f"\n=== {nombre_processus} processus, {args.tours} tours entrelacés ===")
        print(
            "tour | recettes/s | pgbench tps | rapport | p50 (ms) | p99 (ms) | erreurs | cohérence"
        )
        for tour in range(1, args.tours + 1):
            vider_regie()
            comptes, report = preparer_comptes(args.accounts)
            recettes = generer_recettes(comptes, args.receipts)
            total_attendu = report + sum(Decimal(montant) for _, montant, _ in recettes)
            connection.close()  # the workers get the server to themselves

            resultat = mesurer(nombre_processus, recettes)
            problemes = verifier_coherence(len(comptes) + resultat["reussies"], total_attendu)
            if resultat["erreurs"]:
                problemes.append(f"{len(resultat['erreurs'])} recette(s) en erreur")
            connection.close()
            tps = pgbench.mesurer(nombre_processus, args.pgbench_secondes)
            print(
                f"{tour} | {nombre_fr(resultat['debit'])} | {nombre_fr(tps)} | "
                f"{nombre_fr(resultat['debit'] / tps, 2)}× | {nombre_fr(resultat['p50'], 2)} | "
                f"{nombre_fr(resultat['p99'], 2)} | {len(resultat['erreurs'])} | "
                f"{'OK' if not problemes else 'ÉCARTS'}",
                flush=True,
            )
            for probleme in (resultat["erreurs"][:5] + problemes)[:20]:
                print(f"  {probleme}")
            bilan.append((nombre_processus, resultat, tps, not problemes))

    print("\nprocessus | recettes/s (médiane) | pgbench tps (médiane) | rapport (médiane)")
    for nombre_processus in args.workers:
        lignes = [(r, tps) for n, r, tps, _ in bilan if n == nombre_processus]
        print(
            f"{nombre_processus} | {nombre_fr(statistics.median(r['debit'] for r, _ in lignes))} | "
            f"{nombre_fr(statistics.median(tps for _, tps in lignes))} | "
            f"{nombre_fr(statistics.median(r['debit'] / tps for r, tps in lignes), 2)}×"
        )
    if not all(ok for *_, ok in bilan):
        raise SystemExit(1)


class Pgbench:
    """pgbench's tpcb-like transaction on a database of its own on the same server."""

    def __init__(self, url: str):
        from psycopg.conninfo import conninfo_to_dict

        self.parametres = conninfo_to_dict(url)
        self.base = f"{self.parametres['dbname']}_pgbench"
        self.executable = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"

    def _commande(self, *options: str) -> list[str]:
        commande = [self.executable, "-h", self.parametres.get("host", "127.0.0.1")]
        commande += ["-p", str(self.parametres.get("port", 5432))]
        commande += ["-U", self.parametres.get("user", "postgres"), *options, self.base]
        return commande

    def version(self) -> str:
        return subprocess.run(
            [self.executable, "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()

    def initialiser(self) -> None:
        import psycopg
        from psycopg import sql
        from psycopg.conninfo import make_conninfo

        maintenance = make_conninfo(**{**self.parametres, "dbname": "postgres"})
        with psycopg.connect(maintenance, autocommit=True) as connexion:
            connexion.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(self.base))
            )
            connexion.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.base)))
        environnement = {**os.environ, "PGPASSWORD": self.parametres.get("password", "")}
        subprocess.run(
            self._commande("-i", "-q", "-s", "10"),
            capture_output=True,
            check=True,
            env=environnement,
            timeout=600,
        )

    def mesurer(self, clients: int, secondes: int) -> float:
        environnement = {**os.environ, "PGPASSWORD": self.parametres.get("password", "")}
        sortie = subprocess.run(
            self._commande("-n", "-c", str(clients), "-j", str(clients), "-T", str(secondes)),
            capture_output=True,
            text=True,
            check=True,
            env=environnement,
            timeout=secondes + 120,
        ).stdout
        trouve = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", sortie)
        if trouve is None:
            raise SystemExit(f"pgbench : sortie illisible\n{sortie}")
        return float(trouve.group(1))


if __name__ == "__main__":
    main()
