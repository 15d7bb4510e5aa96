"""The PDF documents: one renderer (WeasyPrint) and the régie's documents.

`rendre_pdf` turns a Django template into a PDF that:
- follows the DSFR look: the « République française » block and the Marianne font, both
  read from the installed `dsfr` package. Nothing is ever fetched over the network: the
  URL fetcher serves only files of the allowed local folders and `data:` URLs, and any
  other URL stops the rendering (`DocumentImpossible`);
- is tagged for accessibility (PDF/UA-1: structure tree, /MarkInfo, /Lang, title);
- is deterministic: the same template, data and issue date (`emis_le`) give the same
  bytes. The PDF's creation and modification dates are the issue date, and WeasyPrint
  writes no random identifier.

The régie's documents (docs/documents.md):
- `releve_compte(compte, debut, fin)`: the relevé de compte nominatif of a period, built
  from the ledger lines only (`donnees_releve_compte`);
- `formulaire_demande_d422(autorisation)` and `formulaire_decision_d422(autorisation)`:
  the request and decision forms that the circular of 19 May 2009 attached.
"""

from __future__ import annotations

import datetime
import mimetypes
from collections import defaultdict
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import dsfr
from django.conf import settings
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils import timezone

from .formats import ESPACE_FINE
from .models import (
    PARTIES_DU_COMPTE,
    ZERO,
    AutorisationD422,
    ChoixReliquat,
    CompteNominatif,
    CompteurMensuel,
    Ecriture,
    LigneEcriture,
    Partie,
    StatutD422,
    StatutPenal,
)

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


# --- Relevé de compte nominatif -------------------------------------------------------

LIBELLES_PARTIES = {
    Partie.PARTIES_CIVILES: "Parties civiles",
    Partie.PECULE_LIBERATION: "Pécule de libération",
    Partie.PART_DISPONIBLE: "Part disponible",
}


def _soldes(lignes) -> dict[str, Decimal]:
    """Balances of the three parts and of the blocked D.422 sums, from ledger lines."""
    sommes = {
        row["partie"]: row["total"]
        for row in lignes.values("partie").annotate(total=Sum("montant")).order_by()
    }
    soldes = {partie: sommes.get(partie) or ZERO for partie in PARTIES_DU_COMPTE}
    soldes["bloque"] = (
        lignes.filter(bloque_d422__isnull=False).aggregate(total=Sum("montant"))["total"] or ZERO
    )
    soldes["total"] = sum((soldes[partie] for partie in PARTIES_DU_COMPTE), ZERO)
    return soldes


def _variations(ecriture: Ecriture) -> dict[str, Decimal]:
    """What one entry changed on each part, from its prefetched lines."""
    parts = dict.fromkeys((*PARTIES_DU_COMPTE, "bloque"), ZERO)
    for ligne in ecriture.lignes.all():
        if ligne.partie == Partie.CONTREPARTIE:
            continue
        parts[ligne.partie] += ligne.montant
        if ligne.bloque_d422_id is not None:
            parts["bloque"] += ligne.montant
    parts["total"] = sum((parts[partie] for partie in PARTIES_DU_COMPTE), ZERO)
    return parts


def _mois_de(debut: datetime.date, fin: datetime.date) -> list[tuple[int, int]]:
    mois, annee = debut.month, debut.year
    resultat = []
    while (annee, mois) <= (fin.year, fin.month):
        resultat.append((annee, mois))
        mois, annee = (1, annee + 1) if mois == 12 else (mois + 1, annee)
    return resultat


def donnees_releve_compte(
    compte: CompteNominatif, debut: datetime.date, fin: datetime.date
) -> dict:
    """Everything the relevé de compte shows, computed from the ledger lines only.

    Opening balances: the lines of the entries dated (date d'opération) before `debut`;
    movements: the entries dated from `debut` to `fin` inclusive; closing balances:
    opening + movements (the same as the lines dated up to `fin`).
    """
    if debut > fin:
        raise ValueError("The period starts after it ends.")
    lignes = LigneEcriture.objects.filter(ecriture__compte=compte)
    ouverture = _soldes(lignes.filter(ecriture__date_operation__lt=debut))
    ecritures = (
        Ecriture.objects.filter(compte=compte, date_operation__range=(debut, fin))
        .select_related("etablissement", "autorisation_d422")
        .prefetch_related("lignes")
        .order_by("date_operation", "cree_le", "pk")
    )
    mouvements = []
    cumul = dict.fromkeys((*PARTIES_DU_COMPTE, "bloque", "total"), ZERO)
    for ecriture in ecritures:
        variations = _variations(ecriture)
        for cle, valeur in variations.items():
            cumul[cle] += valeur
        mouvements.append({"ecriture": ecriture, **variations})
    cloture = {cle: ouverture[cle] + cumul[cle] for cle in ouverture}

    compteurs = {
        (c.annee, c.mois): c.cumul
        for c in CompteurMensuel.objects.filter(compte=compte, annee__gte=debut.year)
    }
    mois = [
        {
            "debut": datetime.date(annee, numero, 1),
            "cumul": compteurs.get((annee, numero), ZERO),
            "provision": Decimal("400.00") if numero == 12 else Decimal("200.00"),
        }
        for annee, numero in _mois_de(debut, fin)
    ]

    bloque_par_autorisation: dict[int, Decimal] = defaultdict(Decimal)
    for row in (
        lignes.filter(bloque_d422__isnull=False, ecriture__date_operation__lte=fin)
        .values("bloque_d422")
        .annotate(total=Sum("montant"))
        .order_by("bloque_d422")
    ):
        if row["total"]:
            bloque_par_autorisation[row["bloque_d422"]] = row["total"]
    autorisations = AutorisationD422.objects.in_bulk(list(bloque_par_autorisation))
    sommes_bloquees = [
        {"autorisation": autorisations[pk], "montant": montant}
        for pk, montant in sorted(bloque_par_autorisation.items())
    ]

    detenu = compte.detenu
    return {
        "compte": compte,
        "detenu": detenu,
        "etablissement": detenu.etablissement,
        "debut": debut,
        "fin": fin,
        "ouverture": ouverture,
        "mouvements": mouvements,
        "total_mouvements": cumul,
        "cloture": cloture,
        "compteurs": mois,
        "sommes_bloquees": sommes_bloquees,
        "parties": [(partie, LIBELLES_PARTIES[partie]) for partie in PARTIES_DU_COMPTE],
    }


def releve_compte(
    compte: CompteNominatif,
    debut: datetime.date,
    fin: datetime.date,
    *,
    emis_le: datetime.datetime | None = None,
) -> bytes:
    detenu = compte.detenu
    return rendre_pdf(
        "documents/releve_compte.html",
        donnees_releve_compte(compte, debut, fin),
        titre=(
            f"Relevé de compte nominatif – {detenu.nom} {detenu.prenoms} "
            f"(écrou {detenu.numero_ecrou}) – du {debut:%d/%m/%Y} au {fin:%d/%m/%Y}"
        ),
        emis_le=emis_le,
    )


# --- D.422 forms ----------------------------------------------------------------------


def nom_personne(utilisateur) -> str:
    if utilisateur is None:
        return "Traitement automatique"
    return utilisateur.get_full_name() or utilisateur.get_username()


def donnees_d422(autorisation: AutorisationD422) -> dict:
    """The request, the magistrate's and the head's decisions, and the steps' log."""
    from .admin import ETAPES_D422  # the step labels of the back-office

    autorisation = (
        AutorisationD422.objects.select_related(
            "detenu__etablissement", "etablissement", "enregistree_par", "decidee_par"
        )
        .prefetch_related("evenements__auteur")
        .get(pk=autorisation.pk)
    )
    detenu = autorisation.detenu
    prevenu = detenu.statut_penal != StatutPenal.CONDAMNE
    return {
        "autorisation": autorisation,
        "detenu": detenu,
        "etablissement": autorisation.etablissement,
        "prevenu": prevenu,
        "en_attente": autorisation.statut == StatutD422.DEMANDEE,
        "en_attente_magistrat": prevenu
        and autorisation.statut == StatutD422.DEMANDEE
        and not autorisation.magistrat_decision,
        "decidee": autorisation.decidee_par_id is not None,
        "accordee": autorisation.statut in (StatutD422.AUTORISEE, StatutD422.CLOTUREE),
        "enregistree_par": nom_personne(autorisation.enregistree_par),
        "decidee_par": nom_personne(autorisation.decidee_par)
        if autorisation.decidee_par_id
        else "",
        "choix_reliquat": [
            (valeur, libelle, valeur == autorisation.reliquat)
            for valeur, libelle in ChoixReliquat.choices
        ],
        "etapes": [
            {
                "quand": evenement.quand,
                "auteur": nom_personne(evenement.auteur),
                "etape": ETAPES_D422.get(evenement.action, evenement.action),
                "details": evenement.details,
            }
            for evenement in autorisation.evenements.all()
        ],
    }


def _titre_d422(libelle: str, autorisation: AutorisationD422) -> str:
    detenu = autorisation.detenu
    return (
        f"{libelle} n° {autorisation.pk} – {detenu.nom} {detenu.prenoms} "
        f"(écrou {detenu.numero_ecrou})"
    )


def formulaire_demande_d422(
    autorisation: AutorisationD422, *, emis_le: datetime.datetime | None = None
) -> bytes:
    return rendre_pdf(
        "documents/d422_demande.html",
        donnees_d422(autorisation),
        titre=_titre_d422("Demande de subside exonéré de répartition (D.422)", autorisation),
        emis_le=emis_le,
    )


def formulaire_decision_d422(
    autorisation: AutorisationD422, *, emis_le: datetime.datetime | None = None
) -> bytes:
    return rendre_pdf(
        "documents/d422_decision.html",
        donnees_d422(autorisation),
        titre=_titre_d422("Décision sur la demande de subside exonéré (D.422)", autorisation),
        emis_le=emis_le,
    )
