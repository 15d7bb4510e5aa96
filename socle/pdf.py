"""The PDF renderer (WeasyPrint) every document of the project goes through.

`rendre_pdf` turns a Django template (which extends documents/base.html) into a PDF that:
- follows the DSFR look: the « République française » block and the Marianne font, both
  read from the installed `dsfr` package. Nothing is ever fetched over the network: the
  URL fetcher serves only files of the allowed local folders and `data:` URLs, and any
  other URL stops the rendering (`DocumentImpossible`);
- is tagged for accessibility (PDF/UA-1: structure tree, /MarkInfo, /Lang, title);
- is deterministic: the same template, data and issue date (`emis_le`) give the same
  bytes. The PDF's creation and modification dates are the issue date, and WeasyPrint
  writes no random identifier.
`reponse_pdf` wraps the bytes in a private, uncached HTTP response.
"""

from __future__ import annotations

import datetime
import mimetypes
from functools import cache
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import dsfr
from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from .formats import ESPACE_FINE

DSFR_DIST = Path(dsfr.__file__).resolve().parent / "static" / "dsfr" / "dist"
POLICES = DSFR_DIST / "fonts"
CSS_LOGO = DSFR_DIST / "component" / "logo" / "logo.main.min.css"
VARIANTE_PDF = "pdf/ua-1"
PRODUCTEUR = "Pécule – ministère de la Justice, direction de l'administration pénitentiaire"


class DocumentImpossible(Exception):
    """The PDF could not be rendered (a resource outside the allowed local files)."""


def dossiers_autorises() -> tuple[Path, ...]:
    """The only folders the renderer may read: the DSFR package's files and the project's
    own static files."""
    return (DSFR_DIST, *(Path(dossier).resolve() for dossier in settings.STATICFILES_DIRS))


@cache
def _classe_recuperateur():
    # WeasyPrint is imported on first use only: it logs and loads its stylesheets at
    # import, which every process importing the admin would pay for.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class RecuperateurLocal(URLFetcher):
        """A WeasyPrint URL fetcher that never goes on the network.

        `file:` URLs are served only from `dossiers_autorises()`, `data:` URLs are
        decoded; anything else (http, https, ftp…) is refused, and with `fail_on_errors`
        a refusal stops the rendering instead of silently dropping the resource.
        """

        def __init__(self):
            super().__init__(fail_on_errors=True, allowed_protocols={"file", "data"})

        def fetch(self, url, headers=None):
            schema = urlparse(url).scheme.lower()
            if schema == "data":
                return super().fetch(url, headers)
            if schema != "file":
                raise PermissionError(f"Ressource refusée (aucun accès réseau) : {url}")
            chemin = Path(url2pathname(urlparse(url).path)).resolve()
            if not any(chemin.is_relative_to(dossier) for dossier in dossiers_autorises()):
                raise PermissionError(f"Fichier hors des dossiers autorisés : {chemin}")
            type_mime = mimetypes.guess_type(chemin.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, chemin.read_bytes(), {"Content-Type": type_mime})

    return RecuperateurLocal


def recuperateur_local():
    """The only URL fetcher the documents use: local files and data: URLs, no network."""
    return _classe_recuperateur()()


@cache
def css_logo() -> str:
    """The DSFR « République française » block rules (light theme) of the installed
    package: the part of its logo stylesheet before the media queries, less the one
    property WeasyPrint does not know (a screen-only concern)."""
    texte = CSS_LOGO.read_text(encoding="utf-8")
    regles = texte[texte.index("*/") + 2 : texte.index("@media")]
    return regles.replace("forced-color-adjust:none;", "")


def police(nom: str) -> str:
    """The file URL of one Marianne font file of the installed DSFR package."""
    return (POLICES / f"{nom}.woff2").as_uri()


def date_w3c(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rendre_pdf(
    template_name: str,
    contexte: dict,
    *,
    titre: str,
    langue: str = "fr",
    emis_le: datetime.datetime | None = None,
) -> bytes:
    """Render `template_name` (which extends documents/base.html) as a tagged PDF.

    `emis_le`, the issue date printed on the document and written as its creation date,
    defaults to now; with the same data and the same `emis_le` the bytes are the same.
    """
    emis_le = emis_le or timezone.now()
    html = render_to_string(
        template_name,
        {
            **contexte,
            "titre": titre,
            "langue": langue,
            "emis_le": emis_le,
            "date_metadonnees": date_w3c(emis_le),
            "producteur": PRODUCTEUR,
            "css_logo": css_logo(),
            "polices": {
                nom: police(f"Marianne-{nom}")
                for nom in ("Regular", "Regular_Italic", "Medium", "Bold", "Light")
            },
        },
    )
    # Marianne has no narrow no-break space (the thousands separator of `euros`): the
    # no-break space keeps every glyph in Marianne, whatever fonts the machine has.
    html = html.replace(ESPACE_FINE, "\u00a0")
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    try:
        document = weasyprint.HTML(
            string=html, base_url=POLICES.as_uri() + "/", url_fetcher=recuperateur_local()
        )
        return document.write_pdf(pdf_variant=VARIANTE_PDF)
    except FatalURLFetchingError as exc:
        raise DocumentImpossible(str(exc.__cause__ or exc)) from exc


def reponse_pdf(pdf: bytes, nom: str, *, telechargement: bool) -> HttpResponse:
    """The PDF as an attachment (`telechargement`) or shown inline; never cached."""
    reponse = HttpResponse(pdf, content_type="application/pdf")
    disposition = "attachment" if telechargement else "inline"
    reponse["Content-Disposition"] = f'{disposition}; filename="{slugify(nom)}.pdf"'
    reponse["Cache-Control"] = "private, no-store"
    return reponse
