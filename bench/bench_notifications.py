"""Benchmark of the payment notifications: the endpoint against its reference, then end
to end, on the real processes.

    .venv/bin/python bench/bench_notifications.py [--notifications 3000] [--latence-ms 150]

Not a test. It starts, on 127.0.0.1 (ports from --port, 9310 by default):
- the sandbox bank process (`python -m sandbox`, its own SQLite file), in which it creates
  one payment per transfer and forces them all EXECUTED, its notifications all dropped
  (switch `drop_ratio=1`): the benchmark delivers them itself, signed with the shared
  secret, exactly as the bank would; `--latence-ms` adds that much to each `get_payment`
  (switch `latence_get_payment_ms`, a real provider's round trip);
- the portal under gunicorn (`portail.wsgi`, 3 sync workers, DATABASE_CONN_MAX_AGE as in
  production), with one more URL, the reference view (`bench/reference.py`: the same
  HMAC check, then one INSERT of the body, nothing else);
- one Celery worker (prefork, 2 processes) on the same database and Redis.

1. The endpoint against its reference, three rounds interleaved (endpoint, reference,
   endpoint, …), the worker not started: `--requetes` signed notifications (distinct
   event ids) POSTed by `--clients` concurrent connections (bench/charge.py) to each; the
   accepted requests per second of each and their ratio, per round and the median. A
   third column, the reference plus the task queued to Redis as the endpoint does,
   shows how much of the gap is the broker.
2. End to end: the worker started, one notification per transfer POSTed (at free rate,
   or `--debit` per second); the benchmark polls the database until every transfer is
   credited, then prints the transfers credited per second, the latency from the POST to
   the credit (p50/p99; the credit's time is its history step, written in the crediting
   transaction), and consistency checks (one entry per transfer, amounts).

Setup (not measured): the benchmark database is dropped and created again (its name must
contain "bench"), migrated, then one establishment, the detainees with their accounts (each
with a balance carried over: the ledger is not empty), one relative per detainee with a
registered permit, and the transfers (awaiting the bank) are bulk-created; ANALYZE.

Everything is bounded (timeouts on every wait and request, a global deadline) and every
process it starts is stopped on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent
if str(RACINE) not in sys.path:
    sys.path.insert(0, str(RACINE))
from bench.charge import centile  # noqa: E402 (after the path above)
from bench.outils import Gunicorn, nombre_fr  # noqa: E402 (after the path above)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pecule_bench_notifications"
)
os.environ.setdefault("DJANGO_DEBUG", "0")

REDIS_BENCH = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
SECRET = secrets.token_hex(16)  # shared by the sandbox and the portal for this run
IBAN_REGIE = "FR7630006000011234567890189"
GRAINE = 20261122
CHEMIN = "/paiements/notifications/sandbox/"
CHEMIN_REFERENCE = "/__bench__/reference/"
CHEMIN_REFERENCE_PUBLIEE = "/__bench__/reference-publiee/"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=3000, help="transferts notifiés")
    parser.add_argument("--detenus", type=int, default=1000, help="personnes détenues")
    parser.add_argument(
        "--clients", type=int, default=16, help="connexions simultanées qui envoient les POST"
    )
    parser.add_argument("--gunicorn", type=int, default=3, help="processus gunicorn")
    parser.add_argument("--celery", type=int, default=2, help="processus du worker Celery")
    parser.add_argument(
        "--debit",
        type=float,
        default=0,
        help="notifications envoyées par seconde, de bout en bout (0 : aussi vite que possible)",
    )
    parser.add_argument(
        "--latence-ms",
        type=float,
        default=0,
        help="latence ajoutée à chaque get_payment de la sandbox, en millisecondes",
    )
    parser.add_argument(
        "--requetes",
        type=int,
        default=2000,
        help="POST par tour de la mesure du point d'entrée et de sa référence (0 : sans)",
    )
    parser.add_argument("--tours", type=int, default=3, help="tours entrelacés")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=600,
        help="DATABASE_CONN_MAX_AGE de gunicorn et du worker (600 : comme en production)",
    )
    parser.add_argument(
        "--port", type=int, default=9310, help="port de gunicorn (la sandbox prend le suivant)"
    )
    parser.add_argument(
        "--sans-bout-en-bout", action="store_true", help="mesurer seulement le point d'entrée"
    )
    parser.add_argument(
        "--delai-max", type=float, default=900, help="délai maximal de la mesure, en secondes"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="accepter une base dont le nom ne contient pas « bench » (elle sera recréée)",
    )
    args = parser.parse_args()
    if (
        min(args.notifications, args.detenus, args.clients, args.gunicorn, args.celery, args.tours)
        < 1
    ):
        parser.error("les nombres doivent être strictement positifs")
    return args


# --- Database ---------------------------------------------------------------------------


def recreer_base(url: str, force: bool) -> str:
    """Drop and create the benchmark database (through the 'postgres' database)."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parametres = conninfo_to_dict(url)
    nom = parametres.get("dbname")
    if not nom:
        raise SystemExit("DATABASE_URL doit nommer une base PostgreSQL.")
    if "bench" not in nom and not force:
        raise SystemExit(f"La base {nom!r} ne contient pas « bench » : refusé (--force).")
    maintenance = make_conninfo(**{**parametres, "dbname": "postgres"})
    with psycopg.connect(maintenance, autocommit=True) as connexion:
        connexion.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(nom)))
        connexion.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(nom)))
    return nom


def migrer() -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=RACINE,
        check=True,
        timeout=600,
    )


def preparer_donnees(nombre_detenus: int, references: list[str], montants: list[Decimal]):
    """Bulk setup: establishment, detainees and accounts (with a carried-over balance),
    one relative per detainee with a registered permit, the transfers (initie). Returns
    the transfers in creation order."""
    from django.db import connection, transaction
    from django.utils import timezone

    from comptes.models import Utilisateur
    from pecule.models import Virement
    from permis.models import PermisDeVisite, PermisEnregistre, StatutPermis
    from regie.models import (
        CompteNominatif,
        Contrepartie,
        Detenu,
        Ecriture,
        Etablissement,
        LigneEcriture,
        NatureEcriture,
        Partie,
        StatutPenal,
    )

    aujourdhui = timezone.localdate()
    report = aujourdhui.replace(day=1) - datetime.timedelta(days=40)
    with transaction.atomic():
        etablissement = Etablissement.objects.create(
            code="BENCHN",
            nom="Établissement de mesure des notifications",
            regie_titulaire="Régie de mesure",
            regie_iban=IBAN_REGIE,
            plafond_par_virement=Decimal("1000.00"),
            plafond_mensuel_par_detenu=Decimal("100000.00"),
        )
        detenus = Detenu.objects.bulk_create(
            [
                Detenu(
                    etablissement=etablissement,
                    numero_ecrou=f"{800000 + i}",
                    nom=f"MESURE{i:05d}",
                    prenoms="Camille",
                    date_naissance=datetime.date(1980, 1, 1) + datetime.timedelta(days=i),
                    statut_penal=StatutPenal.PREVENU if i % 3 == 0 else StatutPenal.CONDAMNE,
                )
                for i in range(nombre_detenus)
            ],
            batch_size=1000,
        )
        soldes = [Decimal(100 + i % 50) for i in range(nombre_detenus)]
        comptes = CompteNominatif.objects.bulk_create(
            [
                CompteNominatif(detenu=detenu, part_disponible=solde)
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
                    date_operation=report,
                    auteur_systeme="bench_notifications",
                    montant=solde,
                )
                for compte, solde in zip(comptes, soldes, strict=True)
            ],
            batch_size=1000,
        )
        LigneEcriture.objects.bulk_create(
            [
                ligne
                for ecriture in ecritures
                for ligne in (
                    LigneEcriture(
                        ecriture=ecriture, partie=Partie.PART_DISPONIBLE, montant=ecriture.montant
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
        naissance = datetime.date(1965, 1, 1)
        proches = Utilisateur.objects.bulk_create(
            [
                Utilisateur(
                    username=f"bench-proche-{i}",
                    fc_sub=f"bench-sub-{i}",
                    fc_given_name="Dominique",
                    fc_family_name=f"PROCHE{i:05d}",
                    fc_birthdate=naissance + datetime.timedelta(days=i),
                    email=f"proche{i}@bench.invalid",
                )
                for i in range(nombre_detenus)
            ],
            batch_size=1000,
        )
        permis = PermisDeVisite.objects.bulk_create(
            [
                PermisDeVisite(
                    numero=f"PVB{i:05d}",
                    etablissement=etablissement,
                    detenu=detenu,
                    titulaire_nom=proche.fc_family_name,
                    titulaire_prenoms=proche.fc_given_name,
                    titulaire_date_naissance=proche.fc_birthdate,
                    date_debut=aujourdhui - datetime.timedelta(days=30),
                    statut=StatutPermis.ACTIF,
                )
                for i, (detenu, proche) in enumerate(zip(detenus, proches, strict=True))
            ],
            batch_size=1000,
        )
        PermisEnregistre.objects.bulk_create(
            [
                PermisEnregistre(proche=proche, permis=p)
                for proche, p in zip(proches, permis, strict=True)
            ],
            batch_size=1000,
        )
        virements = Virement.objects.bulk_create(
            [
                Virement(
                    reference=reference,
                    cle_idempotence=f"bench-{j}",
                    proche=proches[j % nombre_detenus],
                    permis=permis[j % nombre_detenus],
                    detenu=detenus[j % nombre_detenus],
                    etablissement=etablissement,
                    montant=montant,
                    fournisseur="sandbox",
                )
                for j, (reference, montant) in enumerate(zip(references, montants, strict=True))
            ],
            batch_size=1000,
        )
    with connection.cursor() as curseur:
        curseur.execute("ANALYZE")
    return virements


def enregistrer_ids_fournisseur(virements, paiements: dict[str, str]) -> None:
    from pecule.models import Virement

    for virement in virements:
        virement.id_fournisseur = paiements[virement.reference]
    Virement.objects.bulk_update(virements, ["id_fournisseur"], batch_size=1000)


# --- The sandbox bank -------------------------------------------------------------------


def creer_paiements(banque, virements, detenus_par_pk, fils: int = 4) -> dict[str, str]:
    """One payment per transfer at the sandbox (its API, as the portal does); returns
    {reference: payment id}."""
    import requests

    local = threading.local()

    def creer(virement) -> tuple[str, str]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        detenu = detenus_par_pk[virement.detenu_id]
        reponse = session.post(
            f"{banque.url}/api/paiements",
            headers={"Authorization": f"Bearer {banque.secret}"},
            json={
                "montant": f"{virement.montant:.2f}",
                "creancier_nom": "Régie de mesure",
                "creancier_iban": IBAN_REGIE,
                "reference_bout_en_bout": virement.reference,
                "libelle": f"ECROU {detenu.numero_ecrou} {detenu.nom} {virement.reference}",
                "payeur": {"nom": "Dominique PROCHE"},
                "url_retour": "http://127.0.0.1/retour",
                "cle_idempotence": virement.cle_idempotence,
            },
            timeout=30,
        )
        reponse.raise_for_status()
        return virement.reference, reponse.json()["id"]

    with concurrent.futures.ThreadPoolExecutor(fils) as pool:
        return dict(pool.map(creer, virements))


def executer_paiements(banque, ids: list[str], fils: int = 4) -> None:
    """Force every payment EXECUTED (each status change is notified: dropped)."""
    import requests

    local = threading.local()

    def forcer(identifiant: str) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        reponse = session.post(
            f"{banque.url}/__admin__/paiements/{identifiant}/statut",
            headers={"Authorization": f"Bearer {banque.secret}"},
            json={"statut": "EXECUTED"},
            timeout=30,
        )
        reponse.raise_for_status()

    with concurrent.futures.ThreadPoolExecutor(fils) as pool:
        list(pool.map(forcer, ids))


def corps_executes(banque) -> dict[str, bytes]:
    """The EXECUTED notifications the sandbox produced (and dropped), by payment id."""
    return {
        n["paiement_id"]: n["corps"].encode()
        for n in banque.notifications()
        if n["statut"] == "EXECUTED" and n["etat"] == "abandonnee"
    }


# --- Processes --------------------------------------------------------------------------


# --- Measure ----------------------------------------------------------------------------


def requetes_signees(chemin: str, corps: list[bytes], hote: str) -> list[bytes]:
    """The POSTs of `corps`, each signed now (a signature is valid for 5 minutes)."""
    from bench.charge import requete
    from tests.fiabilite.outils import signature

    return [
        requete(
            "POST",
            chemin,
            hote=hote,
            corps=contenu,
            entetes={
                "Content-Type": "application/json",
                "Pecule-Signature": signature(contenu, SECRET),
            },
        )
        for contenu in corps
    ]


def corps_synthetiques(nombre: int, tour: int, cote: str) -> list[bytes]:
    """Notifications as the sandbox writes them, with distinct event ids (the endpoint
    stores each): the payments need not exist, the endpoint does not look them up."""
    import json

    return [
        json.dumps(
            {
                "id_evenement": f"bench-{cote}-{tour}-{i}",
                "type": "paiement.statut",
                "paiement": {"id": f"sbx-bench-{i}", "statut": "EXECUTED"},
                "survenu_le": "2026-07-01T00:30:00+02:00",
            }
        ).encode()
        for i in range(nombre)
    ]


def mesurer_point_d_entree(gunicorn, args) -> list[tuple[float, float]]:
    """Interleaved rounds: the endpoint, then its reference, `args.tours` times; prints
    each round's accepted requests per second and the ratio. Returns the pairs."""
    from bench.charge import charger

    hote = f"127.0.0.1:{gunicorn.port}"
    paires = []
    print(
        f"\n1. Point d'entrée et référence (HMAC + un INSERT), {args.tours} tours entrelacés de "
        f"{args.requetes} POST, {args.clients} connexions simultanées, gunicorn "
        f"{args.gunicorn} processus, DATABASE_CONN_MAX_AGE={args.conn_max_age}",
        flush=True,
    )
    print(
        "tour | point d'entrée (req/s) | référence (req/s) | rapport | p99 point d'entrée (ms) "
        "| référence + mise en file (req/s) | rapport"
    )
    for tour in range(1, args.tours + 1):
        mesures = {}
        for cote, chemin in (
            ("point", CHEMIN),
            ("reference", CHEMIN_REFERENCE),
            ("publiee", CHEMIN_REFERENCE_PUBLIEE),
        ):
            requetes = requetes_signees(chemin, corps_synthetiques(args.requetes, tour, cote), hote)
            resultat = charger("127.0.0.1", gunicorn.port, requetes, concurrence=args.clients)
            if resultat.reussies() != len(requetes):
                raise SystemExit(
                    f"{cote} : {len(requetes) - resultat.reussies()} POST refusés ou perdus "
                    f"(statuts {sorted({r[3] for r in resultat.reponses})})"
                )
            mesures[cote] = resultat
        point, reference = mesures["point"].par_seconde(), mesures["reference"].par_seconde()
        publiee = mesures["publiee"].par_seconde()
        paires.append((point, reference))
        p99 = centile(mesures["point"].latences(), 99) * 1000
        print(
            f"{tour} | {nombre_fr(point)} | {nombre_fr(reference)} | "
            f"{nombre_fr(point / reference, 2)}× | {nombre_fr(p99, 1)} | {nombre_fr(publiee)} | "
            f"{nombre_fr(point / publiee, 2)}×",
            flush=True,
        )
    rapports = sorted(point / reference for point, reference in paires)
    print(
        f"médiane : point d'entrée {nombre_fr(statistics.median(p for p, _ in paires))} req/s, "
        f"référence {nombre_fr(statistics.median(r for _, r in paires))} req/s, "
        f"rapport {nombre_fr(statistics.median(rapports), 2)}×",
        flush=True,
    )
    return paires


def attendre_credits(nombre: int, fin: float) -> int:
    from django.db import connection

    from pecule.models import StatutRegie, Virement

    dernier = -1
    while True:
        credites = Virement.objects.filter(statut_regie=StatutRegie.CREDITE).count()
        connection.close()
        if credites != dernier:
            print(f"  {credites} / {nombre} crédités", flush=True)
            dernier = credites
        if credites >= nombre or time.monotonic() > fin:
            return credites
        time.sleep(1)


def verifier(virements, montant_total: Decimal) -> list[str]:
    from django.db.models import Count, Sum

    from pecule.models import NotificationRecue, StatutRegie, Virement
    from regie.models import Ecriture, NatureEcriture

    problemes = []
    nombre = len(virements)
    credits = Ecriture.objects.filter(source__startswith="virement:")
    agregat = credits.aggregate(n=Count("id"), sources=Count("source", distinct=True))
    if agregat["n"] != nombre or agregat["sources"] != nombre:
        problemes.append(f"{agregat['n']} écritures de virement ({agregat['sources']} sources)")
    total = Ecriture.objects.filter(nature=NatureEcriture.SUBSIDE_PROCHE).aggregate(
        total=Sum("montant")
    )["total"]
    if total != montant_total:
        problemes.append(f"total crédité {total} ≠ {montant_total}")
    autres = Virement.objects.exclude(statut_regie=StatutRegie.CREDITE).count()
    if autres:
        problemes.append(f"{autres} virements non crédités")
    restantes = NotificationRecue.objects.filter(traitee_le__isnull=True).count()
    if restantes or NotificationRecue.objects.count() != nombre:
        problemes.append(f"boîte de réception : {restantes} non traitées")
    return problemes


def mesurer(args) -> int:
    base = os.environ["DATABASE_URL"]
    nom = recreer_base(base, args.force)
    print(f"Base {nom} recréée ; migrations…", flush=True)
    migrer()

    import django

    django.setup()
    from django.utils import timezone

    from tests.celery_worker import WorkerCelery
    from tests.sandbox_banque import BanqueSandbox

    hasard = random.Random(GRAINE)
    from pecule.models import nouvelle_reference

    references: list[str] = []
    vues: set[str] = set()
    while len(references) < args.notifications:
        reference = nouvelle_reference()
        if reference not in vues:
            vues.add(reference)
            references.append(reference)
    montants = [Decimal(hasard.randint(500, 15000)) / 100 for _ in references]
    print("Préparation des données (en masse)…", flush=True)
    virements = preparer_donnees(args.detenus, references, montants)

    import redis

    client_redis = redis.Redis.from_url(REDIS_BENCH, socket_timeout=10)
    client_redis.flushdb()

    dossier = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
    banque = BanqueSandbox(
        dossier / "sandbox.sqlite3", secret=SECRET, SANDBOX_TICK="0.5", SANDBOX_PORT=args.port + 1
    )
    gunicorn = worker = None
    try:
        banque.demarrer()
        banque.configurer(drop_ratio=1)  # every notification dropped: the bench sends them
        from regie.models import Detenu

        detenus = {d.pk: d for d in Detenu.objects.all()}
        t0 = time.monotonic()
        paiements = creer_paiements(banque, virements, detenus)
        executer_paiements(banque, list(paiements.values()))
        corps = corps_executes(banque)
        print(
            f"Sandbox : {len(paiements)} paiements créés et exécutés en "
            f"{time.monotonic() - t0:.0f} s",
            flush=True,
        )
        enregistrer_ids_fournisseur(virements, paiements)
        if len(corps) != len(virements):
            raise SystemExit(
                f"{len(corps)} notifications EXECUTED à la sandbox, attendu {len(virements)}"
            )

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.reglages_reference",
            "DATABASE_URL": base,
            "CELERY_BROKER_URL": REDIS_BENCH,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "DJANGO_DEBUG": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PECULE_FOURNISSEUR": "sandbox",
            "SANDBOX_BANQUE_URL": banque.url,
            "SANDBOX_BANQUE_SECRET": SECRET,
        }
        from django.db import connection

        from bench.reference import CREER_TABLE

        with connection.cursor() as curseur:
            curseur.execute(CREER_TABLE)
        connection.close()
        # GET on the endpoint: 405 (POST only), no database access.
        gunicorn = Gunicorn(
            env, args.gunicorn, dossier / "gunicorn.log", args.port, sonde=CHEMIN, code_sonde=405
        )
        gunicorn.attendre()
        if args.requetes:
            mesurer_point_d_entree(gunicorn, args)
            from pecule.models import NotificationRecue

            NotificationRecue.objects.all().delete()  # the endpoint's rows of the rounds
            client_redis.flushdb()  # and their queued tasks
        if args.sans_bout_en_bout:
            return 0

        worker = WorkerCelery(
            database_url=base,
            broker_url=REDIS_BENCH,
            concurrence=args.celery,
            env={
                cle: env[cle]
                for cle in (
                    "PECULE_FOURNISSEUR",
                    "SANDBOX_BANQUE_URL",
                    "SANDBOX_BANQUE_SECRET",
                    "DJANGO_EMAIL_BACKEND",
                    "DATABASE_CONN_MAX_AGE",
                )
            },
            nom="bench",
        )
        worker.demarrer()
        banque.configurer(latence_get_payment_ms=args.latence_ms)

        envois = [(paiements[v.reference], corps[paiements[v.reference]]) for v in virements]
        hasard.shuffle(envois)
        print(
            f"\n2. De bout en bout : {len(envois)} notifications, {args.clients} connexions, "
            f"gunicorn {args.gunicorn} processus, worker Celery {args.celery} processus "
            f"(lots de {os.environ.get('PECULE_NOTIFICATIONS_PAR_LOT', '50')}), "
            f"DATABASE_CONN_MAX_AGE={args.conn_max_age}, latence de get_payment "
            f"{args.latence_ms:g} ms, débit {'libre' if not args.debit else f'{args.debit:g}/s'}…",
            flush=True,
        )
        from bench.charge import charger

        fin = time.monotonic() + args.delai_max
        envoi = charger(
            "127.0.0.1",
            gunicorn.port,
            requetes_signees(CHEMIN, [c for _, c in envois], f"127.0.0.1:{gunicorn.port}"),
            concurrence=args.clients,
            debit=args.debit,
        )
        credites = attendre_credits(len(envois), fin)
    finally:
        if gunicorn is not None:
            gunicorn.arreter()
        if worker is not None:
            worker.arreter()
            worker.supprimer_journal()
        banque.arreter()
        client_redis.flushdb()
        client_redis.close()
        shutil.rmtree(dossier, ignore_errors=True)

    from pecule.models import EvenementVirement

    envoye_le = {envois[rang][0]: envoi_le for rang, envoi_le, _, _ in envoi.reponses}
    credit_le = {
        e.virement.id_fournisseur: e.quand.timestamp()
        for e in EvenementVirement.objects.filter(source="credit").select_related("virement")
    }
    latences = sorted(credit_le[i] - envoye_le[i] for i in credit_le if i in envoye_le)
    dernier_credit = max(credit_le.values()) if credit_le else envoi.debut
    problemes = verifier(virements, sum(montants, Decimal(0)))

    print()
    print(
        f"Machine : {os.cpu_count()} cœurs ; Python {platform.python_version()} ; "
        f"{timezone.localtime():%d/%m/%Y %H:%M}"
    )
    print(
        f"notifications envoyées        : {len(envoi.reponses)} "
        f"(acceptées 2xx : {envoi.reussies()}) en {nombre_fr(envoi.duree, 1)} s, "
        f"{nombre_fr(envoi.par_seconde(), 1)} /s"
    )
    print(
        f"créditées par seconde (bout en bout) : "
        f"{nombre_fr(credites / (dernier_credit - envoi.debut), 1)} /s "
        f"({credites} en {nombre_fr(dernier_credit - envoi.debut, 1)} s)"
    )
    if latences:
        print(
            f"latence notification → crédit : p50 {nombre_fr(centile(latences, 50), 2)} s, "
            f"p99 {nombre_fr(centile(latences, 99), 2)} s"
        )
    latences_post = envoi.latences()
    print(
        f"latence du POST               : p50 {nombre_fr(centile(latences_post, 50) * 1000, 1)} ms, "
        f"p99 {nombre_fr(centile(latences_post, 99) * 1000, 1)} ms"
    )
    print("cohérence : " + ("OK" if not problemes else "ÉCARTS\n  " + "\n  ".join(problemes)))
    return 0 if not problemes and credites == len(virements) else 1


def main() -> int:
    args = arguments()

    def interrompre(numero, _cadre):
        raise KeyboardInterrupt(f"signal {numero}")

    signal.signal(signal.SIGTERM, interrompre)
    return mesurer(args)


if __name__ == "__main__":
    sys.exit(main())
