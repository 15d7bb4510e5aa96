"""The compose health check of the web container: GET /sante/ on this container's
gunicorn, with a Host the portal accepts; exit 0 only on 200.

    python /app/portail/sonde_sante.py

Run as a plain script (no Django, no import of the portal): it must stay cheap, it runs
every few seconds."""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    adresse = os.environ.get("PECULE_GUNICORN_BIND", "127.0.0.1:8000")
    adresse = adresse.replace("0.0.0.0", "127.0.0.1")  # noqa: S104 - an address to call
    hote = os.environ.get("PECULE_SANTE_HOTE") or (
        os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
    )
    requete = urllib.request.Request(f"http://{adresse}/sante/?format=json", headers={"Host": hote})
    try:
        with urllib.request.urlopen(requete, timeout=10) as reponse:  # noqa: S310
            return 0 if reponse.status == 200 else 1
    except urllib.error.HTTPError as erreur:
        sys.stdout.write(erreur.read().decode(errors="replace")[:2000] + "\n")
        return 1
    except OSError as erreur:
        sys.stdout.write(f"{erreur}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
