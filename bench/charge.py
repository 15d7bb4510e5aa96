"""A small HTTP/1.1 load client for the benchmarks (no load tool is installed here).

asyncio and raw streams, one connection per request (gunicorn's sync workers close it
anyway), `concurrence` requests in flight at once, optionally paced at `debit` requests
per second. A request is prepared bytes (`requete`); the answer's status and the time
from the connection to the last byte are recorded. One Python process drives several
thousand requests per second, well above what the portal serves on this machine, and
the same client drives a benchmark and its reference.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field


def requete(
    methode: str, chemin: str, *, hote: str, corps: bytes = b"", entetes: dict | None = None
) -> bytes:
    """The bytes of one HTTP/1.1 request."""
    lignes = [f"{methode} {chemin} HTTP/1.1", f"Host: {hote}", "Connection: close"]
    if corps or methode == "POST":
        lignes.append(f"Content-Length: {len(corps)}")
    lignes += [f"{cle}: {valeur}" for cle, valeur in (entetes or {}).items()]
    return ("\r\n".join(lignes) + "\r\n\r\n").encode("latin-1") + corps


@dataclass
class Resultat:
    debut: float = 0.0  # time.time() of the first request
    fin: float = 0.0
    # (rank of the request, sent, done, status), times from time.time()
    reponses: list[tuple[int, float, float, int]] = field(default_factory=list)

    @property
    def duree(self) -> float:
        return self.fin - self.debut

    def reussies(self) -> int:
        return sum(1 for *_, statut in self.reponses if 200 <= statut < 300)

    def par_seconde(self) -> float:
        return self.reussies() / self.duree if self.duree else 0.0

    def latences(self) -> list[float]:
        return sorted(fin - envoi for _, envoi, fin, _ in self.reponses)


def centile(valeurs_triees: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not valeurs_triees:
        return 0.0
    rang = max(1, math.ceil(p / 100 * len(valeurs_triees)))
    return valeurs_triees[min(rang, len(valeurs_triees)) - 1]


async def _une(hote: str, port: int, brut: bytes, delai: float) -> int:
    lecteur, ecrivain = await asyncio.wait_for(asyncio.open_connection(hote, port), delai)
    try:
        ecrivain.write(brut)
        await ecrivain.drain()
        statut_ligne = await asyncio.wait_for(lecteur.readline(), delai)
        statut = int(statut_ligne.split()[1])
        await asyncio.wait_for(lecteur.read(), delai)  # headers and body, up to the close
        return statut
    finally:
        ecrivain.close()


async def _charger(hote, port, requetes, concurrence, debit, delai, pause) -> Resultat:
    resultat = Resultat()
    file = iter(enumerate(requetes))
    depart = time.monotonic()
    resultat.debut = time.time()

    async def client():
        for rang, brut in file:
            if debit:
                attente = depart + rang / debit - time.monotonic()
                if attente > 0:
                    await asyncio.sleep(attente)
            envoi = time.time()
            try:
                statut = await _une(hote, port, brut, delai)
            except (TimeoutError, OSError, ValueError, IndexError):
                statut = 0
            resultat.reponses.append((rang, envoi, time.time(), statut))
            if pause:  # a person reading the page before the next one
                await asyncio.sleep(pause)

    await asyncio.gather(*(client() for _ in range(concurrence)))
    resultat.fin = time.time()
    return resultat


def charger(
    hote: str,
    port: int,
    requetes: list[bytes],
    *,
    concurrence: int = 16,
    debit: float = 0,
    delai: float = 30,
    pause: float = 0,
) -> Resultat:
    """Send every request, `concurrence` at a time (paced at `debit`/s when given; each
    client waits `pause` seconds after each answer: a user's reading time)."""
    return asyncio.run(_charger(hote, port, requetes, concurrence, debit, delai, pause))
