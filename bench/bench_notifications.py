"""Benchmark of the payment notifications, end to end, on the real processes.

    .venv/bin/python bench/bench_notifications.py [--notifications 5000] [--clients 8]

Not a test. It starts, on 127.0.0.1:
- the sandbox bank process (`python -m sandbox`, its own SQLite file), in which it creates
  one payment per transfer and forces them all EXECUTED, its notifications all dropped
  (switch `drop_ratio=1`): the benchmark delivers them itself, signed with the shared
  secret, exactly as the bank would;
- the portal under gunicorn (`portail.wsgi`, 3 sync workers), DATABASE_URL = the benchmark
  database, CELERY_BROKER_URL = Redis index 8;
- one Celery worker (prefork, 2 processes) on the same database and Redis.

Setup (not measured): the benchmark database is dropped and created again (its name must
contain "bench"), migrated, then one establishment, the detainees with their accounts (each
with a balance carried over: the ledger is not empty), one relative per detainee with a
registered permit, and the transfers (awaiting the bank) are bulk-created; ANALYZE.

Measured: the signed notifications (one per transfer, in random order) are POSTed by
`--clients` threads to POST /paiements/notifications/sandbox/; the real endpoint verifies,
stores, queues after commit; the real worker asks the sandbox for the payment, applies the
state machine and credits the compte nominatif (répartition, ledger, outbox), each in its
transaction. The benchmark polls the database until every transfer is credited (or the
deadline passes), then prints: notifications accepted per second at the endpoint,
transfers credited per second end to end, latency from the notification's POST to the
credit (p50/p99; the credit's time is its history entry, written in the crediting
transaction), the POST latency, and consistency checks (one entry per transfer, amounts).

Everything is bounded (timeouts on every wait and request, a global deadline) and every
process it starts is stopped on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
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


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notifications", type=int, default=5000, help="transferts notifiés")
    parser.add_argument("--detenus", type=int, default=1000, help="personnes détenues")
    parser.add_argument("--clients", type=int, default=8, help="fils qui envoient les POST")
    parser.add_argument("--gunicorn", type=int, default=3, help="processus gunicorn")
    parser.add_argument("--celery", type=int, default=2, help="processus du worker Celery")
    parser.add_argument(
        "--debit",
        type=float,
        default=0,
        help="notifications envoyées par seconde (0 : aussi vite que les clients le peuvent)",
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="DATABASE_CONN_MAX_AGE de gunicorn et du worker (0, le défaut des réglages : "
        "une connexion par requête ou tâche)",
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
    if min(args.notifications, args.detenus, args.clients, args.gunicorn, args.celery) < 1:
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


def port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, env: dict, processus: int, journal: Path):
        self.port = port_libre()
        self.url = f"http://127.0.0.1:{self.port}"
        self.chemin_journal = journal
        self.journal = journal.open("wb")
        self.processus = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portail.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(processus),
                "--timeout",
                "60",
            ],
            cwd=RACINE,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.journal,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def attendre(self, delai: float = 60) -> None:
        import requests

        fin = time.monotonic() + delai
        while time.monotonic() < fin:
            if self.processus.poll() is not None:
                raise RuntimeError(f"gunicorn s'est arrêté au démarrage :\n{self.fin_journal()}")
            try:
                # GET on the endpoint: 405 (POST only), no database access.
                if requests.get(f"{self.url}{CHEMIN}", timeout=2).status_code == 405:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn n'a pas répondu à temps :\n{self.fin_journal()}")

    def fin_journal(self) -> str:
        return self.chemin_journal.read_text(errors="replace")[-3000:]

    def arreter(self, delai: float = 30) -> None:
        if self.processus.poll() is None:
            self.processus.send_signal(signal.SIGTERM)
            try:
                self.processus.wait(timeout=delai)
            except subprocess.TimeoutExpired:
                os.killpg(self.processus.pid, signal.SIGKILL)
                self.processus.wait(timeout=delai)
        self.journal.close()


# --- Measure ----------------------------------------------------------------------------


def envoyer(url: str, corps: list[tuple[str, bytes]], clients: int, secret: str, debit: float):
    """POST every notification, each signed just before, from `clients` threads (the i-th
    not before `i / debit` seconds when `debit` is set). Returns {payment id: (sent at,
    answered at, HTTP status)} (wall-clock times)."""
    import requests

    from tests.fiabilite.outils import signature

    resultats: dict[str, tuple[float, float, int]] = {}
    verrou = threading.Lock()
    suivant = iter(enumerate(corps))
    depart = time.monotonic()

    def client():
        with requests.Session() as session:
            while True:
                with verrou:
                    element = next(suivant, None)
                if element is None:
                    return
                rang, (identifiant, contenu) = element
                if debit:
                    attente = depart + rang / debit - time.monotonic()
                    if attente > 0:
                        time.sleep(attente)
                envoye = time.time()
                try:
                    code = session.post(
                        url,
                        data=contenu,
                        headers={
                            "Content-Type": "application/json",
                            "Pecule-Signature": signature(contenu, secret),
                        },
                        timeout=30,
                    ).status_code
                except requests.RequestException:
                    code = 0
                with verrou:
                    resultats[identifiant] = (envoye, time.time(), code)

    fils = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join(timeout=600)
    return resultats


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


def centile(valeurs_triees: list[float], p: float) -> float:
    rang = max(1, math.ceil(p / 100 * len(valeurs_triees)))
    return valeurs_triees[min(rang, len(valeurs_triees)) - 1]


def nombre_fr(valeur: float, decimales: int = 0) -> str:
    texte = f"{valeur:,.{decimales}f}"
    return texte.replace(",", "\u202f").replace(".", ",")


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
    banque = BanqueSandbox(dossier / "sandbox.sqlite3", secret=SECRET, SANDBOX_TICK="0.5")
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
        gunicorn = Gunicorn(env, args.gunicorn, dossier / "gunicorn.log")
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
        gunicorn.attendre()

        envois = [(paiements[v.reference], corps[paiements[v.reference]]) for v in virements]
        hasard.shuffle(envois)
        print(
            f"Mesure : {len(envois)} notifications, {args.clients} clients, gunicorn "
            f"{args.gunicorn} processus, worker Celery {args.celery} processus, "
            f"DATABASE_CONN_MAX_AGE={args.conn_max_age}, "
            f"débit {'libre' if not args.debit else f'{args.debit:g}/s'}…",
            flush=True,
        )
        fin = time.monotonic() + args.delai_max
        resultats = envoyer(f"{gunicorn.url}{CHEMIN}", envois, args.clients, SECRET, args.debit)
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

    acceptes = [r for r in resultats.values() if 200 <= r[2] < 300]
    debut = min(r[0] for r in resultats.values())
    fin_envois = max(r[1] for r in resultats.values())
    credit_le = {
        e.virement.id_fournisseur: e.quand.timestamp()
        for e in EvenementVirement.objects.filter(source="credit").select_related("virement")
    }
    latences = sorted(credit_le[i] - resultats[i][0] for i in credit_le if i in resultats)
    latences_post = sorted(r[1] - r[0] for r in resultats.values())
    dernier_credit = max(credit_le.values()) if credit_le else debut
    problemes = verifier(virements, sum(montants, Decimal(0)))

    print()
    print(
        f"Machine : {os.cpu_count()} cœurs ; Python {platform.python_version()} ; "
        f"{timezone.localtime():%d/%m/%Y %H:%M}"
    )
    print(f"notifications envoyées        : {len(resultats)} (acceptées 2xx : {len(acceptes)})")
    print(
        f"acceptées par seconde         : "
        f"{nombre_fr(len(acceptes) / (fin_envois - debut), 1)} /s "
        f"(envoi en {nombre_fr(fin_envois - debut, 1)} s)"
    )
    print(
        f"créditées par seconde (bout en bout) : "
        f"{nombre_fr(credites / (dernier_credit - debut), 1)} /s "
        f"({credites} en {nombre_fr(dernier_credit - debut, 1)} s)"
    )
    if latences:
        print(
            f"latence notification → crédit : p50 {nombre_fr(centile(latences, 50), 2)} s, "
            f"p99 {nombre_fr(centile(latences, 99), 2)} s"
        )
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
