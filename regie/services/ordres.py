"""Outgoing payment orders (spec 05-sorties-de-fonds.md): prepared in the same transaction
as the ledger entry that takes the money out, validated by a second person, gathered in a
batch written as a pain.001 file, and closed by the bank (executed, or rejected: the money
is then put back where it came from).

Four eyes live here, not in a template: the person who prepared an order never validates
nor refuses it, whatever their other rights (superusers included); the database refuses
it too. Every step is an `EvenementOrdre` with its author and time.

A refused or rejected order puts its money back by a reversing entry on the part it came
from (blocked again for a D.422 expense); an order without an entry (a held transfer
returned to its sender) simply fails, and the payments side sees its transfer back in
the « à traiter » queue (`pecule`)."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from schwifty import BIC, IBAN
from schwifty import exceptions as erreurs_iban

from socle.dates import aujourdhui
from socle.formats import euros

from ..exceptions import (
    CoordonneesBancairesInvalides,
    DecisionDejaPrise,
    OperationInterdite,
    SecondRegardRequis,
)
from ..models import (
    ActionOrdre,
    CompteNominatif,
    Contrepartie,
    Ecriture,
    Etablissement,
    EvenementOrdre,
    NatureEcriture,
    NatureOrdre,
    OrdreVirement,
    Partie,
    Remise,
    StatutOrdre,
    StatutRemise,
    VersionPain001,
)
from ..pain001 import ecrire_pain001
from .ecritures import Ligne, _passer, _verrouiller, verifier_droits

PERMISSION_VALIDER = "regie.valider_ordrevirement"
PERMISSION_REMISE = "regie.constituer_remise"
LONGUEUR_NOM_SEPA = 70
LONGUEUR_LIBELLE_SEPA = 140

MESSAGES_IBAN = {
    erreurs_iban.InvalidChecksumDigits: "la clé de contrôle de l'IBAN est fausse",
    erreurs_iban.InvalidBBANChecksum: "la clé du RIB est fausse",
    erreurs_iban.InvalidLength: "la longueur ne correspond pas au pays",
    erreurs_iban.InvalidCountryCode: "le code pays est inconnu",
    erreurs_iban.InvalidStructure: "le format ne correspond pas au pays",
    erreurs_iban.InvalidBankCode: "le code banque est invalide",
    erreurs_iban.InvalidBranchCode: "le code guichet est invalide",
    erreurs_iban.InvalidAccountCode: "le numéro de compte est invalide",
}


# --- The beneficiary --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Beneficiaire:
    """Who an order pays: a name within SEPA's 70 characters, a checked IBAN (compact),
    a BIC when known."""

    nom: str
    iban: str
    bic: str = ""


def _raison(exc: Exception) -> str:
    for classe, message in MESSAGES_IBAN.items():
        if isinstance(exc, classe):
            return message
    return "il n'est pas reconnu"


def beneficiaire_valide(nom: str, iban: str, bic: str = "") -> Beneficiaire:
    """Check a beneficiary typed from a supporting document (schwifty: country, length,
    checksums; SEPA zone; BIC format and country), or raise CoordonneesBancairesInvalides
    with a French message."""
    nom = " ".join((nom or "").split())
    if not nom:
        raise CoordonneesBancairesInvalides("Le nom du bénéficiaire est obligatoire.")
    if len(nom) > LONGUEUR_NOM_SEPA:
        raise CoordonneesBancairesInvalides(
            f"Le nom du bénéficiaire dépasse {LONGUEUR_NOM_SEPA} caractères (norme SEPA)."
        )
    if not (iban or "").strip():
        raise CoordonneesBancairesInvalides("L'IBAN du bénéficiaire est obligatoire.")
    try:
        compte = IBAN(iban)
    except erreurs_iban.SchwiftyException as exc:
        raise CoordonneesBancairesInvalides(
            f"IBAN du bénéficiaire invalide : {_raison(exc)}.", champ="iban"
        ) from exc
    if not compte.in_sepa_zone:
        raise CoordonneesBancairesInvalides(
            "Ce compte n'est pas dans la zone SEPA : un virement SEPA ne peut pas l'atteindre.",
            champ="iban",
        )
    code_bic = ""
    if (bic or "").strip():
        try:
            banque = BIC(bic)
        except erreurs_iban.SchwiftyException as exc:
            raise CoordonneesBancairesInvalides(
                "BIC du bénéficiaire invalide : 8 ou 11 caractères attendus.", champ="bic"
            ) from exc
        if banque.country_code != compte.country_code:
            raise CoordonneesBancairesInvalides(
                f"Le BIC ({banque.country_code}) et l'IBAN ({compte.country_code}) ne sont "
                "pas du même pays.",
                champ="bic",
            )
        code_bic = str(banque)
    return Beneficiaire(nom=nom, iban=compte.compact, bic=code_bic)


def compte_de_la_regie(etablissement: Etablissement) -> Beneficiaire:
    """The régie's own account, as the beneficiary of a transfer between régies."""
    return beneficiaire_valide(
        etablissement.regie_titulaire[:LONGUEUR_NOM_SEPA], etablissement.regie_iban
    )


# --- Preparing ---------------------------------------------------------------------------


def _journal(ordre: OrdreVirement, action: str, auteur=None, details: str = "", systeme=""):
    EvenementOrdre.objects.create(
        ordre=ordre,
        action=action,
        auteur=auteur,
        auteur_systeme="" if auteur is not None else (systeme or "régie"),
        details=details,
    )


def preparer_ordre(
    *,
    nature: str,
    beneficiaire: Beneficiaire,
    montant: Decimal,
    libelle: str,
    source: str,
    auteur,
    etablissement: Etablissement,
    compte: CompteNominatif | None,
    ecriture: Ecriture | None,
    partie: str = "",
    contrepartie: str = "",
    autorisation=None,
    piece: str = "",
) -> OrdreVirement:
    """Record the order that pays `ecriture` (called by the services that take money out,
    inside their transaction and under the account lock). The preparer is the entry's
    author: a person, never an automatic process."""
    if auteur is None:
        raise ValueError("A payment order is prepared by a person.")
    libelle = " ".join(libelle.split())[:LONGUEUR_LIBELLE_SEPA]
    ordre = OrdreVirement.objects.create(
        etablissement=etablissement,
        compte=compte,
        ecriture=ecriture,
        nature=nature,
        partie=partie,
        contrepartie=contrepartie,
        autorisation_d422=autorisation,
        source=source,
        beneficiaire_nom=beneficiaire.nom,
        beneficiaire_iban=beneficiaire.iban,
        beneficiaire_bic=beneficiaire.bic,
        montant=montant,
        libelle=libelle,
        piece=piece,
        prepare_par=auteur,
    )
    ordre.libelle = f"{libelle[: LONGUEUR_LIBELLE_SEPA - 14]} {ordre.reference}"
    ordre.save(update_fields=["libelle"])
    _journal(
        ordre,
        ActionOrdre.PREPARATION,
        auteur,
        f"{euros(montant)} à {beneficiaire.nom} ({masquer(beneficiaire.iban)})",
    )
    return ordre


def payer_ecriture(
    ecriture: Ecriture,
    *,
    nature: str,
    beneficiaire: Beneficiaire,
    auteur,
    libelle: str,
    contrepartie: str,
    partie: str = "",
    montant: Decimal | None = None,
    suffixe: str = "",
    piece: str = "",
    autorisation=None,
) -> OrdreVirement:
    """The order that pays an entry just written (same transaction, account locked).
    `partie`: the one part the money was taken from, put back there if the order fails;
    empty: every account line of the entry is mirrored back (the entry pays one
    beneficiary from several parts)."""
    return preparer_ordre(
        nature=nature,
        beneficiaire=beneficiaire,
        montant=montant if montant is not None else ecriture.montant,
        libelle=libelle,
        source=f"ecriture:{ecriture.pk}{suffixe}",
        auteur=auteur,
        etablissement=ecriture.etablissement,
        compte=ecriture.compte,
        ecriture=ecriture,
        partie=partie,
        contrepartie=contrepartie,
        piece=piece,
        autorisation=autorisation,
    )


def beneficiaire_par_defaut(prefixe: str, nom: str, iban: str, bic: str) -> Beneficiaire:
    """A public body's account (FGTI, Trésor): what the régisseur typed, else the settings
    `PECULE_<prefixe>_NOM/IBAN/BIC` (empty in production: the body's own instructions)."""
    return beneficiaire_valide(
        nom or getattr(settings, f"PECULE_{prefixe}_NOM", ""),
        iban or getattr(settings, f"PECULE_{prefixe}_IBAN", ""),
        bic or getattr(settings, f"PECULE_{prefixe}_BIC", ""),
    )


def masquer(iban: str) -> str:
    """FR76 …0189: what the events and messages show of an account."""
    return f"{iban[:4]} …{iban[-4:]}" if len(iban) > 8 else iban


@transaction.atomic
def preparer_retour_virement(
    *,
    compte: CompteNominatif,
    etablissement: Etablissement,
    montant: Decimal,
    beneficiaire: Beneficiaire,
    reference_virement: str,
    motif: str,
    source: str,
    auteur,
) -> OrdreVirement:
    """A relative's transfer held « à traiter » and returned: the money is on the régie's
    bank account but on no compte nominatif, so the order pays no entry."""
    verifier_droits(auteur, etablissement, "regie.passer_ecriture", "retourner un virement")
    return preparer_ordre(
        nature=NatureOrdre.RETOUR_VIREMENT,
        beneficiaire=beneficiaire,
        montant=montant,
        libelle=f"RETOUR VIREMENT {reference_virement} {motif}",
        source=source,
        auteur=auteur,
        etablissement=etablissement,
        compte=compte,
        ecriture=None,
    )


@transaction.atomic
def preparer_versement_entre_regies(
    *, ecriture: Ecriture, origine: Etablissement, auteur, reference: str
) -> OrdreVirement | None:
    """Money received on one régie's bank account but credited to an account now kept by
    another (a relative's transfer held, then credited after the detainee's transfer):
    an order from the receiving régie to the account's régie. None when both share one
    bank account."""
    destination = ecriture.etablissement
    if compte_de_la_regie(destination).iban == compte_de_la_regie(origine).iban:
        return None
    return preparer_ordre(
        nature=NatureOrdre.TRANSFERT,
        beneficiaire=compte_de_la_regie(destination),
        montant=ecriture.montant,
        libelle=f"VIREMENT {reference} POUR {destination.code} ECROU "
        f"{ecriture.compte.detenu.numero_ecrou}",
        source=f"ecriture:{ecriture.pk}:regie",
        auteur=auteur,
        etablissement=origine,
        compte=ecriture.compte,
        ecriture=ecriture,
        contrepartie=Contrepartie.ETABLISSEMENT,
    )


# --- Four eyes ---------------------------------------------------------------------------


def _verrouiller_ordre(ordre: OrdreVirement) -> OrdreVirement:
    return (
        OrdreVirement.objects.select_for_update(of=("self",))
        .select_related("etablissement")
        .get(pk=ordre.pk)
    )


def _second_regard(ordre: OrdreVirement, auteur, action: str) -> None:
    verifier_droits(auteur, ordre.etablissement, PERMISSION_VALIDER, action)
    if auteur.pk == ordre.prepare_par_id:
        raise SecondRegardRequis(
            "Vous avez préparé cet ordre : une autre personne doit le valider ou le refuser."
        )


@transaction.atomic
def valider_ordre(*, ordre: OrdreVirement, auteur) -> OrdreVirement:
    ordre = _verrouiller_ordre(ordre)
    _second_regard(ordre, auteur, "valider un ordre de virement")
    if ordre.statut != StatutOrdre.PREPARE:
        raise DecisionDejaPrise(
            f"Cet ordre n'est plus à valider ({ordre.get_statut_display().lower()})."
        )
    ordre.statut = StatutOrdre.VALIDE
    ordre.valide_par = auteur
    ordre.valide_le = timezone.now()
    ordre.save(update_fields=["statut", "valide_par", "valide_le"])
    _journal(ordre, ActionOrdre.VALIDATION, auteur)
    return ordre


@transaction.atomic
def refuser_ordre(*, ordre: OrdreVirement, auteur, motif: str) -> OrdreVirement:
    """The second person refuses: the money goes back where it was (a reversing entry)."""
    ordre = _verrouiller_ordre(ordre)
    _second_regard(ordre, auteur, "refuser un ordre de virement")
    if ordre.statut not in (StatutOrdre.PREPARE, StatutOrdre.VALIDE):
        raise DecisionDejaPrise(
            "Seul un ordre qui n'est pas encore dans une remise peut être refusé "
            f"({ordre.get_statut_display().lower()})."
        )
    motif = (motif or "").strip()
    if not motif:
        raise OperationInterdite("Le motif du refus est obligatoire.")
    ordre.statut = StatutOrdre.REFUSE
    ordre.refuse_par = auteur
    ordre.motif_refus = motif
    ordre.ecriture_annulation = _remettre_en_compte(
        ordre, auteur=auteur, motif=f"Ordre {ordre.reference} refusé : {motif}"
    )
    ordre.save(update_fields=["statut", "refuse_par", "motif_refus", "ecriture_annulation"])
    _journal(ordre, ActionOrdre.REFUS, auteur, motif)
    return ordre


# Orders whose money is not put back on an account when they fail: a returned transfer
# (it reached no account: the payments side sees it back « à traiter ») and a transfer
# between régies (the account was credited at the destination: the origin sends the
# balance again with `reemettre_ordre`).
SANS_REMISE_EN_COMPTE = (NatureOrdre.RETOUR_VIREMENT, NatureOrdre.TRANSFERT)


def _lignes_remises(ordre: OrdreVirement) -> list[Ligne]:
    """Back on the part the money was taken from (blocked again for a D.422 expense), or,
    for an entry that paid one beneficiary from several parts, its account lines
    mirrored."""
    if ordre.partie:
        return [
            Ligne(ordre.partie, ordre.montant, bloque=ordre.autorisation_d422),
            Ligne(Partie.CONTREPARTIE, -ordre.montant, ordre.contrepartie),
        ]
    return [
        Ligne(
            ligne.partie,
            -ligne.montant,
            ligne.contrepartie,
            ligne.bloque_d422,
            livret=ligne.livret_a,
        )
        for ligne in ordre.ecriture.lignes.select_related("bloque_d422")
    ]


def _remettre_en_compte(ordre: OrdreVirement, *, auteur, motif: str, systeme: str = ""):
    """The reversing entry of a failed order (`_lignes_remises`); a liquidated account is
    open again, for the régisseur to pay it anew. None for `SANS_REMISE_EN_COMPTE`."""
    if ordre.ecriture_id is None or ordre.nature in SANS_REMISE_EN_COMPTE:
        return None
    compte = _verrouiller(ordre.compte_id)
    if compte.cloture_le is not None:
        compte.cloture_le = None
        compte.save(update_fields=["cloture_le"])
    return _passer(
        compte,
        nature=NatureEcriture.ANNULATION_ORDRE,
        source=f"ordre:{ordre.pk}:remise-en-compte",
        motif=motif,
        lignes=_lignes_remises(ordre),
        auteur=auteur,
        auteur_systeme=systeme if auteur is None else "",
        date_operation=aujourdhui(),
        etablissement=ordre.etablissement,
        # The account may have been closed by the release this order paid.
        autoriser_compte_cloture=True,
    )


# --- Batches -----------------------------------------------------------------------------


def reference_remise(etablissement: Etablissement, instant: datetime.datetime) -> str:
    """GrpHdr/MsgId: unique, readable, within 35 characters."""
    horodatage = timezone.localtime(instant).strftime("%Y%m%d%H%M%S%f")[:17]
    return f"REM-{etablissement.code[:10]}-{horodatage}"[:35]


@transaction.atomic
def constituer_remise(
    *,
    etablissement: Etablissement,
    auteur,
    version: str = VersionPain001.V03,
    date_execution: datetime.date | None = None,
) -> Remise:
    """Gather every validated order of the establishment in one batch and write its
    pain.001 file (validated against the official XSD). The orders are locked: an order
    validated meanwhile waits for the next batch."""
    verifier_droits(auteur, etablissement, PERMISSION_REMISE, "constituer une remise")
    if version not in VersionPain001.values:
        raise OperationInterdite("Format de fichier inconnu.")
    ordres = list(
        OrdreVirement.objects.select_for_update()
        .filter(etablissement=etablissement, statut=StatutOrdre.VALIDE)
        .order_by("valide_le", "pk")
    )
    if not ordres:
        raise OperationInterdite("Aucun ordre validé à transmettre pour cet établissement.")
    date_execution = date_execution or aujourdhui()
    if date_execution < aujourdhui():
        raise OperationInterdite("La date d'exécution demandée ne peut pas être passée.")
    maintenant = timezone.now()
    reference = reference_remise(etablissement, maintenant)
    debiteur = compte_de_la_regie(etablissement)
    fichier = ecrire_pain001(
        version=version,
        reference=reference,
        cree_le=maintenant,
        debiteur=debiteur,
        date_execution=date_execution,
        ordres=ordres,
    )
    remise = Remise.objects.create(
        etablissement=etablissement,
        reference=reference,
        version=version,
        nombre=len(ordres),
        total=sum((ordre.montant for ordre in ordres), Decimal("0.00")),
        date_execution=date_execution,
        debiteur_nom=debiteur.nom,
        debiteur_iban=debiteur.iban,
        fichier=fichier,
        empreinte=hashlib.sha256(fichier).hexdigest(),
        constituee_par=auteur,
        constituee_le=maintenant,
    )
    OrdreVirement.objects.filter(pk__in=[o.pk for o in ordres]).update(
        statut=StatutOrdre.EN_REMISE, remise=remise
    )
    for ordre in ordres:
        _journal(ordre, ActionOrdre.MISE_EN_REMISE, auteur, remise.reference)
    return remise


def _verrouiller_remise(remise: Remise) -> Remise:
    return (
        Remise.objects.select_for_update(of=("self",))
        .select_related("etablissement")
        .get(pk=remise.pk)
    )


@transaction.atomic
def annuler_remise(*, remise: Remise, auteur) -> Remise:
    """Only before it was transmitted: its orders are validated again, for a later batch."""
    remise = _verrouiller_remise(remise)
    verifier_droits(auteur, remise.etablissement, PERMISSION_REMISE, "annuler une remise")
    if remise.statut != StatutRemise.CONSTITUEE:
        raise OperationInterdite(
            "Cette remise a déjà été transmise à la banque : elle ne peut plus être annulée."
            if remise.statut == StatutRemise.TRANSMISE
            else "Cette remise est déjà annulée."
        )
    remise.statut = StatutRemise.ANNULEE
    remise.annulee_par = auteur
    remise.annulee_le = timezone.now()
    remise.save(update_fields=["statut", "annulee_par", "annulee_le"])
    ordres = list(remise.ordres.select_for_update())
    OrdreVirement.objects.filter(pk__in=[o.pk for o in ordres]).update(
        statut=StatutOrdre.VALIDE, remise=None
    )
    for ordre in ordres:
        _journal(ordre, ActionOrdre.RETRAIT_DE_REMISE, auteur, remise.reference)
    return remise


@transaction.atomic
def transmettre_remise(*, remise: Remise, auteur) -> bytes:
    """The download of the batch's file: once. It marks the batch and its orders as
    transmitted; a second download is refused (the bank would pay twice)."""
    remise = _verrouiller_remise(remise)
    verifier_droits(auteur, remise.etablissement, PERMISSION_REMISE, "transmettre une remise")
    if remise.statut == StatutRemise.ANNULEE:
        raise OperationInterdite("Cette remise a été annulée.")
    if remise.statut == StatutRemise.TRANSMISE:
        raise OperationInterdite(
            f"Le fichier de cette remise a déjà été téléchargé le "
            f"{timezone.localtime(remise.transmise_le):%d/%m/%Y à %H:%M} par "
            f"{_nom(remise.transmise_par)} : il n'est servi qu'une fois. Vérifiez auprès de "
            "la banque qu'elle l'a reçu avant toute nouvelle remise."
        )
    remise.statut = StatutRemise.TRANSMISE
    remise.transmise_par = auteur
    remise.transmise_le = timezone.now()
    remise.save(update_fields=["statut", "transmise_par", "transmise_le"])
    ordres = list(remise.ordres.select_for_update())
    OrdreVirement.objects.filter(pk__in=[o.pk for o in ordres]).update(statut=StatutOrdre.TRANSMIS)
    for ordre in ordres:
        _journal(ordre, ActionOrdre.TRANSMISSION, auteur, remise.reference)
    return bytes(remise.fichier)


def _nom(utilisateur) -> str:
    return utilisateur.get_full_name() or utilisateur.get_username()


# --- What the bank says ------------------------------------------------------------------


@transaction.atomic
def constater_execution(
    *,
    ordre: OrdreVirement,
    date_execution: datetime.date,
    reference_banque: str = "",
    auteur=None,
    auteur_systeme: str = "",
) -> OrdreVirement:
    """A debit line of the régie's statement proves the order was paid. Seen again: no
    change (idempotent)."""
    ordre = _verrouiller_ordre(ordre)
    if auteur is not None:
        verifier_droits(auteur, ordre.etablissement, "regie.passer_ecriture", "rapprocher")
    if ordre.statut == StatutOrdre.EXECUTE:
        return ordre
    if ordre.statut != StatutOrdre.TRANSMIS:
        raise OperationInterdite(
            f"L'ordre {ordre.reference} n'a pas été transmis à la banque "
            f"({ordre.get_statut_display().lower()})."
        )
    ordre.statut = StatutOrdre.EXECUTE
    ordre.execute_le = date_execution
    ordre.reference_banque = reference_banque[:35]
    ordre.save(update_fields=["statut", "execute_le", "reference_banque"])
    _journal(
        ordre,
        ActionOrdre.EXECUTION,
        auteur,
        f"le {date_execution:%d/%m/%Y}"
        + (f", référence {reference_banque}" if reference_banque else ""),
        systeme=auteur_systeme,
    )
    return ordre


@transaction.atomic
def constater_rejet(
    *,
    ordre: OrdreVirement,
    code: str,
    motif: str,
    auteur=None,
    auteur_systeme: str = "",
) -> OrdreVirement:
    """The bank's status report rejects the order (wrong IBAN, closed account…): the
    money is put back where it came from, with the bank's reason. Seen again: no change."""
    ordre = _verrouiller_ordre(ordre)
    if auteur is not None:
        verifier_droits(auteur, ordre.etablissement, "regie.passer_ecriture", "rapprocher")
    if ordre.statut == StatutOrdre.REJETE:
        return ordre
    if ordre.statut != StatutOrdre.TRANSMIS:
        raise OperationInterdite(
            f"L'ordre {ordre.reference} ne peut pas être rejeté : "
            f"{ordre.get_statut_display().lower()}."
        )
    code = (code or "").strip()[:4] or "NARR"
    ordre.statut = StatutOrdre.REJETE
    ordre.code_rejet = code
    ordre.motif_rejet = (motif or "").strip()[:300]
    ordre.ecriture_annulation = _remettre_en_compte(
        ordre,
        auteur=auteur,
        systeme=auteur_systeme or "banque : rejet d'un virement",
        motif=f"Ordre {ordre.reference} rejeté par la banque ({code}"
        + (f" : {ordre.motif_rejet}" if ordre.motif_rejet else "")
        + ")",
    )
    ordre.save(update_fields=["statut", "code_rejet", "motif_rejet", "ecriture_annulation"])
    _journal(
        ordre,
        ActionOrdre.REJET,
        auteur,
        f"{code} {ordre.motif_rejet}".strip(),
        systeme=auteur_systeme or "banque",
    )
    return ordre


@transaction.atomic
def reemettre_ordre(
    *, ordre: OrdreVirement, auteur, beneficiaire: Beneficiaire | None = None
) -> OrdreVirement:
    """A new order for the money of a refused or rejected order that was not put back on
    an account (a transfer between régies): same entry, same amount, corrected
    beneficiary if given. Validated again by a second person."""
    ordre = _verrouiller_ordre(ordre)
    verifier_droits(auteur, ordre.etablissement, "regie.passer_ecriture", "émettre un ordre")
    if not ordre.en_echec or ordre.ecriture_annulation_id is not None or ordre.ecriture_id is None:
        raise OperationInterdite(
            "Seul un ordre refusé ou rejeté dont l'argent n'a pas été remis en compte peut "
            "être émis à nouveau."
        )
    if (
        OrdreVirement.objects.filter(source__startswith=f"{ordre.source}:")
        .exclude(statut__in=[StatutOrdre.REFUSE, StatutOrdre.REJETE])
        .exists()
    ):
        raise OperationInterdite("Un nouvel ordre est déjà en cours pour cette somme.")
    rang = OrdreVirement.objects.filter(source__startswith=f"{ordre.source}:").count() + 1
    return preparer_ordre(
        nature=ordre.nature,
        beneficiaire=beneficiaire
        or Beneficiaire(ordre.beneficiaire_nom, ordre.beneficiaire_iban, ordre.beneficiaire_bic),
        montant=ordre.montant,
        libelle=ordre.libelle.rsplit(" ", 1)[0],
        source=f"{ordre.source}:{rang}",
        auteur=auteur,
        etablissement=ordre.etablissement,
        compte=ordre.compte,
        ecriture=ordre.ecriture,
        partie=ordre.partie,
        contrepartie=ordre.contrepartie,
        piece=ordre.piece,
    )


def ordre_en_cours_pour(ecriture: Ecriture) -> OrdreVirement | None:
    """The order that pays this entry unless it failed (such an entry cannot be reversed:
    the money is on its way or gone; refuse the order instead)."""
    return (
        ecriture.ordres_virement.exclude(statut__in=[StatutOrdre.REFUSE, StatutOrdre.REJETE])
        .order_by("pk")
        .first()
    )
