"""The régie's PDF documents (docs/documents.md), rendered by `socle.pdf.rendre_pdf`:

- `releve_compte(compte, debut, fin)`: the relevé de compte nominatif of a period, built
  from the ledger lines only (`donnees_releve_compte`);
- `formulaire_demande_d422(autorisation)` and `formulaire_decision_d422(autorisation)`:
  the request and decision forms that the circular of 19 May 2009 attached;
- `avis_vigilance(alerte)`: the notice on sums to examine or reported to the judicial
  authority (former D. 339).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from socle.pdf import rendre_pdf

from .models import (
    NOMS_PARTIES,
    PARTIES_DU_COMPTE,
    ZERO,
    AlerteVigilance,
    AutorisationD422,
    ChoixReliquat,
    CompteNominatif,
    CompteurMensuel,
    Ecriture,
    LigneEcriture,
    Partie,
    StatutAlerte,
    StatutD422,
    StatutPenal,
)

# --- Relevé de compte nominatif -------------------------------------------------------


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
        "parties": [(partie, NOMS_PARTIES[partie].court) for partie in PARTIES_DU_COMPTE],
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
                "etape": evenement.get_action_display(),
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


# --- Vigilance notice (former D. 339) ---------------------------------------------------


def donnees_avis_vigilance(alerte: AlerteVigilance) -> dict:
    """The sum, its origin, the rule it met, and the chef's decision, for the notice."""
    alerte = AlerteVigilance.objects.select_related(
        "detenu", "etablissement", "ecriture", "decidee_par"
    ).get(pk=alerte.pk)
    return {
        "alerte": alerte,
        "detenu": alerte.detenu,
        "etablissement": alerte.etablissement,
        "ecriture": alerte.ecriture,
        "en_attente": alerte.statut == StatutAlerte.A_EXAMINER,
        "signalee": alerte.statut == StatutAlerte.SIGNALEE,
        "decidee_par": nom_personne(alerte.decidee_par) if alerte.decidee_par_id else "",
        "retenues": list(alerte.retenues.all()),
    }


def avis_vigilance(alerte: AlerteVigilance, *, emis_le: datetime.datetime | None = None) -> bytes:
    detenu = alerte.detenu
    return rendre_pdf(
        "documents/vigilance_avis.html",
        donnees_avis_vigilance(alerte),
        titre=(
            f"Avis sur des sommes reçues n° {alerte.pk} – {detenu.nom} {detenu.prenoms} "
            f"(écrou {detenu.numero_ecrou})"
        ),
        emis_le=emis_le,
    )
