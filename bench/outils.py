"""What the benchmarks share besides the load client (`bench.charge`): the gunicorn they
measure against, and French number formatting for their tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parent.parent


def nombre_fr(valeur: float, decimales: int = 0) -> str:
    """1 234,5: a narrow no-break space between thousands, a decimal comma."""
    return f"{valeur:,.{decimales}f}".replace(",", "\u202f").replace(".", ",")


class Gunicorn:
    """The portal under gunicorn on 127.0.0.1:`port`, its output in `journal`; ready once
    a GET on `sonde` answers (with `code_sonde`, when given)."""

    def __init__(
        self,
        env: dict,
        processus: int,
        journal: Path,
        port: int,
        *,
        sonde: str,
        code_sonde: int | None = None,
    ):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.sonde = sonde
        self.code_sonde = code_sonde
        self.chemin_journal = journal
        self.journal = journal.open("wb")
        self.processus = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portail.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
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
                reponse = requests.get(f"{self.url}{self.sonde}", timeout=2)
                if self.code_sonde is None or reponse.status_code == self.code_sonde:
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
