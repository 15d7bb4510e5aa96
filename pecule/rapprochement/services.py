"""Import of the régie's bank statement and reconciliation with the transfers.

`importer_releve` is the only writer: in one transaction it stores the statement, its
lines and their matching state, and writes one `EvenementVirement` (source « releve »)
on each transfer a line points to. It never changes a transfer's fields. The selectors
below give the régisseur's three lists (03-paiements.md, « Reconciliation with the
bank »), for the admin and for the periodic alert task.

The rules are described in docs/rapprochement.md.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from pecule.models import (
    EvenementVirement,
    RapportPain002,
    StatutPaiement,
    StatutRegie,
    Virement,
)
from regie import services as regie
from regie.models import Etablissement, NatureOrdre, OrdreVirement, Remise, StatutOrdre
from regie.services import verifier_droits
from socle import dates
from socle.erreurs import ErreurMetier
from socle.formats import euros
from socle.references import motif_reference

from ..models import (
    STATUTS_RAPPROCHES,
    LigneReleve,
    ReleveBancaire,
    Sens,
    StatutRapprochement,
)
from ..services import courriels
from ..services.commun import journal
from .camt import CREDIT, DEBIT, CamtInvalide, EcritureLue, ReleveLu, iban_compact, lire_camt053
from .pain002 import Pain002Invalide, lire_pain002

SOURCE_EVENEMENT = "releve"
PERMISSION_IMPORT = "pecule.importer_releve"
DELAI_JOURS_OUVRES = 3

# Our own tokens inside the bank's free text (the XML itself is never read by regex): a
# relative's transfer, and the régie's own outgoing payment order.
MOTIF_REFERENCE = motif_reference("PEC")
MOTIF_ORDRE = motif_reference("ORD")
AUTEUR_BANQUE = "banque : relevé ou compte rendu"

STATUTS_ECHEC = (StatutPaiement.REFUSE, StatutPaiement.ANNULE, StatutPaiement.EXPIRE)
STATUTS_EN_COURS = (StatutPaiement.INITIE, StatutPaiement.AUTORISE)


class ReleveRefuse(ErreurMetier):
    """The statement cannot be imported; nothing was written (French message)."""

    code = "releve_refuse"


class ReleveDejaImporte(ReleveRefuse):
    """The same file was already imported: nothing changes."""

    code = "releve_deja_importe"

    def __init__(self, message: str, releve: ReleveBancaire | None = None):
        super().__init__(message)
        self.releve = releve


class CompteIncorrect(ReleveRefuse):
    code = "releve_compte_incorrect"


class ReleveIncoherent(ReleveRefuse):
    code = "releve_incoherent"


# --- Import ----------------------------------------------------------------------------


def empreinte(fichier: bytes) -> str:
    return hashlib.sha256(fichier).hexdigest()


def _deja_importe(releve: ReleveBancaire, etablissement: Etablissement) -> ReleveDejaImporte:
    quand = timezone.localtime(releve.importe_le)
    if releve.etablissement_id != etablissement.pk:
        return ReleveDejaImporte(
            f"Ce fichier a déjà été importé le {quand:%d/%m/%Y à %H:%M}, pour un autre "
            "établissement : rien n'a été modifié."
        )
    par = ""
    if releve.importe_par is not None:
        par = f" par {releve.importe_par.get_full_name() or releve.importe_par.get_username()}"
    return ReleveDejaImporte(
        f"Ce fichier a déjà été importé le {quand:%d/%m/%Y à %H:%M}{par} ({releve}) : "
        "rien n'a été modifié.",
        releve,
    )


def _verifier_releve(lu: ReleveLu, etablissement: Etablissement) -> None:
    """Refuse a statement of another account, in another currency, or whose balances do
    not add up."""
    iban_regie = iban_compact(etablissement.regie_iban)
    if not lu.iban:
        raise CompteIncorrect(
            f"Le relevé {lu.identifiant} n'identifie pas le compte par un IBAN : il ne peut "
            "pas être rapproché."
        )
    if lu.iban != iban_regie:
        raise CompteIncorrect(
            f"Ce relevé est celui du compte {lu.iban}, et non celui de la régie de "
            f"{etablissement.nom} ({iban_regie}) : il n'a pas été importé."
        )
    if lu.devise and lu.devise != "EUR":
        raise ReleveRefuse(f"Le compte du relevé est tenu en {lu.devise}, non en euros.")
    for ecriture in lu.ecritures:
        if ecriture.devise != "EUR":
            raise ReleveRefuse(
                f"L'écriture n° {ecriture.position} est en {ecriture.devise} : seules les "
                "écritures en euros sont prises en charge."
            )
    if not lu.coherent:
        ecart = lu.solde_cloture.montant - lu.solde_calcule
        raise ReleveIncoherent(
            f"Le relevé {lu.identifiant} n'est pas cohérent : solde d'ouverture "
            f"{euros(lu.solde_ouverture.montant)} + crédits {euros(lu.total_credits)} − "
            f"débits {euros(lu.total_debits)} = {euros(lu.solde_calcule)}, mais le solde de "
            f"clôture annoncé est {euros(lu.solde_cloture.montant)} (écart {euros(ecart)}). "
            "Il n'a pas été importé : demandez à la banque un relevé complet."
        )
    resume = lu.resume
    if resume is None:
        return
    comptabilisees = [e for e in lu.ecritures if e.comptabilisee]
    for sens, nombre, somme, libelle in (
        (CREDIT, resume.nombre_credits, resume.somme_credits, "crédits"),
        (DEBIT, resume.nombre_debits, resume.somme_debits, "débits"),
    ):
        lues = [e for e in comptabilisees if e.sens == sens]
        total = sum((e.montant for e in lues), Decimal("0.00"))
        if (nombre is not None and nombre != len(lues)) or (somme is not None and somme != total):
            raise ReleveIncoherent(
                f"Le relevé {lu.identifiant} n'est pas cohérent : la banque annonce "
                f"{nombre if nombre is not None else '?'} {libelle} pour "
                f"{euros(somme) if somme is not None else '?'}, le fichier en contient "
                f"{len(lues)} pour {euros(total)}. Il n'a pas été importé."
            )


@dataclass
class _Ligne:
    """A line to write, before matching."""

    position: int
    sous_position: int
    montant: object
    ecriture: EcritureLue
    reference_bout_en_bout: str = ""
    libelle: str = ""
    nom_debiteur: str = ""
    iban_debiteur: str = ""
    reference_banque: str = ""
    note: str = ""
    nom_crediteur: str = ""
    iban_crediteur: str = ""


def _lignes_de(ecriture: EcritureLue) -> list[_Ligne]:
    """One line per entry; a batch entry whose transactions carry amounts adding up to
    the entry is split into one line per transaction."""
    transactions = ecriture.transactions
    montants = [t.montant for t in transactions]
    if len(transactions) > 1 and None not in montants and sum(montants) == ecriture.montant:
        return [
            _Ligne(
                position=ecriture.position,
                sous_position=rang,
                montant=t.montant,
                ecriture=ecriture,
                reference_bout_en_bout=t.reference_bout_en_bout,
                libelle=t.libelle,
                nom_debiteur=t.nom_debiteur,
                iban_debiteur=t.iban_debiteur,
                reference_banque=ecriture.reference_banque or t.reference_banque,
                nom_crediteur=t.nom_crediteur,
                iban_crediteur=t.iban_crediteur,
            )
            for rang, t in enumerate(transactions, start=1)
        ]
    ligne = _Ligne(
        position=ecriture.position,
        sous_position=0,
        montant=ecriture.montant,
        ecriture=ecriture,
        reference_banque=ecriture.reference_banque,
    )
    if len(transactions) == 1:
        t = transactions[0]
        ligne.reference_banque = ligne.reference_banque or t.reference_banque
        ligne.reference_bout_en_bout = t.reference_bout_en_bout
        ligne.libelle = t.libelle
        ligne.nom_debiteur = t.nom_debiteur
        ligne.iban_debiteur = t.iban_debiteur
        ligne.nom_crediteur = t.nom_crediteur
        ligne.iban_crediteur = t.iban_crediteur
    elif transactions:
        ligne.libelle = " ".join(t.libelle for t in transactions if t.libelle)
        ligne.note = (
            f"Écriture groupée de {len(transactions)} opérations sans le détail de leurs montants."
        )
    if not ligne.libelle and ecriture.information:
        ligne.libelle = ecriture.information
    return [ligne]


def _references_du_libelle(libelle: str) -> list[str]:
    trouvees = []
    for reference in MOTIF_REFERENCE.findall(libelle.upper()):
        if reference not in trouvees:
            trouvees.append(reference)
    return trouvees


def _chercher_virement(ligne: LigneReleve, etablissement: Etablissement):
    """(transfer of this establishment or None, how it was found, whether the line
    carries a portal reference, why nothing was found). End-to-end id first, then the
    reference found in the remittance text."""
    problemes: list[str] = []
    portail = False
    essais = []
    bout_en_bout = ligne.reference_bout_en_bout.strip().upper()
    if bout_en_bout:
        essais.append(("référence de bout en bout", [bout_en_bout]))
    du_libelle = _references_du_libelle(ligne.libelle)
    if len(du_libelle) > 1:
        portail = True
        problemes.append(
            "Plusieurs références du portail dans le libellé "
            f"({', '.join(du_libelle)}) : rapprochement à faire à la main."
        )
    elif du_libelle and du_libelle != [bout_en_bout]:
        essais.append(("référence du libellé", du_libelle))
    for origine, (reference,) in essais:
        est_du_portail = MOTIF_REFERENCE.fullmatch(reference) is not None
        portail = portail or est_du_portail
        virement = (
            Virement.objects.select_related("etablissement").filter(reference=reference).first()
        )
        if virement is None:
            if est_du_portail:
                problemes.append(f"Référence {reference} ({origine}) inconnue du portail.")
            continue
        portail = True
        if virement.etablissement_id != etablissement.pk:
            problemes.append(
                f"La référence {reference} ({origine}) est celle d'un virement destiné à un "
                f"autre établissement ({virement.etablissement.nom})."
            )
            continue
        return virement, origine, portail, problemes
    return None, "", portail, problemes


def _rapprocher(ligne: LigneReleve, etablissement: Etablissement) -> None:
    """Set the line's transfer, matching state and note (not saved)."""
    notes = [ligne.note] if ligne.note else []

    def fixer(statut, *textes, virement=None):
        ligne.statut_rapprochement = statut
        ligne.virement = virement
        ligne.note = " ".join([*notes, *textes])[:500]

    if ligne.statut_ecriture != "BOOK":
        return fixer(
            StatutRapprochement.IGNOREE,
            f"Écriture non comptabilisée (statut {ligne.statut_ecriture or 'inconnu'}) : "
            "hors soldes.",
        )
    if ligne.sens == Sens.DEBIT:
        if ligne.contrepassation:
            return fixer(
                StatutRapprochement.NON_RAPPROCHEE,
                "Contre-passation par la banque d'un crédit : vérifiez le virement concerné.",
            )
        return _rapprocher_debit(ligne, etablissement, fixer)
    virement, origine, portail, problemes = _chercher_virement(ligne, etablissement)
    if virement is None:
        if portail:
            return fixer(StatutRapprochement.NON_RAPPROCHEE, *problemes)
        return fixer(StatutRapprochement.IGNOREE, "Crédit sans référence du portail.")
    trouve = f"Virement trouvé par la {origine}."
    deja = (
        LigneReleve.objects.filter(virement=virement, statut_rapprochement__in=STATUTS_RAPPROCHES)
        .select_related("releve")
        .first()
    )
    if deja is not None:
        return fixer(
            StatutRapprochement.NON_RAPPROCHEE,
            trouve,
            f"Ce virement est déjà rapproché de la ligne {deja.position} du {deja.releve} : "
            "somme reçue deux fois ?",
            virement=virement,
        )
    if virement.statut_paiement in STATUTS_ECHEC:
        return fixer(
            StatutRapprochement.NON_RAPPROCHEE,
            trouve,
            f"Le prestataire a annoncé ce virement « {virement.get_statut_paiement_display()} » "
            "mais la somme est arrivée sur le compte : à vérifier.",
            virement=virement,
        )
    en_cours = []
    if virement.statut_paiement in STATUTS_EN_COURS:
        en_cours = [
            "Exécution pas encore confirmée par le prestataire (statut : "
            f"{virement.get_statut_paiement_display()})."
        ]
    if ligne.montant != virement.montant:
        return fixer(
            StatutRapprochement.MONTANT_DIFFERENT,
            trouve,
            f"Montant reçu {euros(ligne.montant)}, montant du virement "
            f"{euros(virement.montant)} (écart {euros(ligne.montant - virement.montant)}).",
            *en_cours,
            virement=virement,
        )
    return fixer(StatutRapprochement.RAPPROCHEE, trouve, *en_cours, virement=virement)


def _chercher_ordre(ligne: LigneReleve, etablissement: Etablissement):
    """(order of this establishment or None, how it was found, problems). End-to-end id
    first, then the order's reference in the remittance text with the same amount."""
    problemes: list[str] = []
    references = []
    bout_en_bout = ligne.reference_bout_en_bout.strip().upper()
    if bout_en_bout:
        references.append(("référence de bout en bout", bout_en_bout, False))
    for reference in MOTIF_ORDRE.findall(ligne.libelle.upper()):
        if reference != bout_en_bout:
            references.append(("référence du libellé", reference, True))
    for origine, reference, meme_montant in references:
        ordre = OrdreVirement.objects.filter(reference=reference).first()
        if ordre is None:
            if MOTIF_ORDRE.fullmatch(reference):
                problemes.append(f"Ordre {reference} ({origine}) inconnu du portail.")
            continue
        if ordre.etablissement_id != etablissement.pk:
            problemes.append(f"L'ordre {reference} ({origine}) est celui d'une autre régie.")
            continue
        if meme_montant and ordre.montant != ligne.montant:
            problemes.append(
                f"L'ordre {reference} ({origine}) est de {euros(ordre.montant)}, le débit de "
                f"{euros(ligne.montant)}."
            )
            continue
        return ordre, origine, problemes
    return None, "", problemes


def _rapprocher_debit(ligne: LigneReleve, etablissement: Etablissement, fixer) -> None:
    """A debit of the régie's account is one of its payment orders, paid by the bank."""
    ordre, origine, problemes = _chercher_ordre(ligne, etablissement)
    if ordre is None:
        return fixer(
            StatutRapprochement.NON_RAPPROCHEE,
            "Débit sans ordre de virement du portail.",
            *problemes,
        )
    trouve = f"Ordre {ordre.reference} trouvé par la {origine}."
    ligne.ordre = ordre
    deja = (
        LigneReleve.objects.filter(ordre=ordre, statut_rapprochement__in=STATUTS_RAPPROCHES)
        .select_related("releve")
        .first()
    )
    if deja is not None:
        ligne.ordre = None
        return fixer(
            StatutRapprochement.NON_RAPPROCHEE,
            trouve,
            f"Cet ordre est déjà rapproché de la ligne {deja.position} du {deja.releve} : "
            "payé deux fois ?",
        )
    if ordre.statut not in (StatutOrdre.TRANSMIS, StatutOrdre.EXECUTE):
        ligne.ordre = None
        return fixer(
            StatutRapprochement.NON_RAPPROCHEE,
            trouve,
            f"L'ordre est « {ordre.get_statut_display().lower()} » mais la banque l'a débité : "
            "à vérifier avec la banque.",
        )
    if ligne.montant != ordre.montant:
        return fixer(
            StatutRapprochement.MONTANT_DIFFERENT,
            trouve,
            f"Montant débité {euros(ligne.montant)}, montant de l'ordre "
            f"{euros(ordre.montant)} (écart {euros(ligne.montant - ordre.montant)}).",
        )
    ligne.statut_rapprochement = StatutRapprochement.RAPPROCHEE
    ligne.note = " ".join([ligne.note, trouve]).strip()[:500]
    return None


def _ordre_execute(ligne: LigneReleve, releve: ReleveBancaire, auteur) -> None:
    """The bank paid the order: it is executed; a relative whose transfer was returned is
    told, with the régisseur's reason."""
    jour = ligne.date_comptable or releve.date_fin
    ordre = regie.constater_execution(
        ordre=ligne.ordre,
        date_execution=jour,
        reference_banque=ligne.reference_banque,
        auteur=auteur,
        auteur_systeme="" if auteur else AUTEUR_BANQUE,
    )
    if ordre.nature != NatureOrdre.RETOUR_VIREMENT:
        return
    virement = (
        Virement.objects.filter(ordre_retour=ordre).select_related("proche", "detenu").first()
    )
    if virement is None or virement.statut_regie != StatutRegie.RETOURNE:
        return
    journal(
        virement,
        SOURCE_EVENEMENT,
        StatutRegie.RETOURNE,
        StatutRegie.RETOURNE,
        f"Retour exécuté par la banque le {jour:%d/%m/%Y} (ordre {ordre.reference}).",
        auteur,
    )
    courriels.virement_retourne(virement, virement.motif_retour, execute_le=jour)


def _journaliser(ligne: LigneReleve, releve: ReleveBancaire, auteur) -> None:
    jour = ligne.date_comptable or releve.date_fin
    details = (
        f"{releve}, ligne {ligne.position}"
        f"{f'.{ligne.sous_position}' if ligne.sous_position else ''} du {jour:%d/%m/%Y} : "
        f"{euros(ligne.montant)} reçus"
        f"{f' (référence banque {ligne.reference_banque})' if ligne.reference_banque else ''}. "
        f"{ligne.note}"
    )
    EvenementVirement.objects.create(
        virement=ligne.virement,
        source=SOURCE_EVENEMENT,
        avant="",
        apres=ligne.statut_rapprochement,
        details=details.strip(),
        auteur=auteur,
    )


@transaction.atomic
def importer_releve(
    *, etablissement: Etablissement, fichier: bytes, auteur, nom_fichier: str = ""
) -> ReleveBancaire:
    """Import a camt.053 statement of the régie's account and match its credit lines.

    Raises `ReleveDejaImporte` for a file already imported,
    `CompteIncorrect` for another account, `ReleveIncoherent` when the balances do not
    add up, `ReleveRefuse` for an unreadable file, `DroitsInsuffisants` if `auteur` may
    not import for this establishment (`auteur=None` is a system process). In every
    error case nothing is written.
    """
    verifier_droits(auteur, etablissement, PERMISSION_IMPORT, "importer un relevé bancaire")
    cle = empreinte(fichier)
    existant = ReleveBancaire.objects.select_related("importe_par").filter(empreinte=cle).first()
    if existant is not None:
        raise _deja_importe(existant, etablissement)
    try:
        document = lire_camt053(fichier)
    except CamtInvalide as exc:
        raise ReleveRefuse(exc.message) from exc
    if len(document.releves) != 1:
        raise ReleveRefuse(
            f"Le fichier contient {len(document.releves)} relevés : importez un fichier par "
            "relevé (un compte, une période)."
        )
    lu = document.releves[0]
    _verifier_releve(lu, etablissement)

    # One import at a time per establishment (FOR NO KEY UPDATE does not block the rows
    # that merely reference the establishment): duplicate lines are then seen reliably.
    Etablissement.objects.select_for_update(no_key=True).filter(pk=etablissement.pk).first()
    existant = ReleveBancaire.objects.select_related("importe_par").filter(empreinte=cle).first()
    if existant is not None:
        raise _deja_importe(existant, etablissement)
    try:
        with transaction.atomic():
            releve = ReleveBancaire.objects.create(
                etablissement=etablissement,
                identifiant=lu.identifiant,
                identifiant_message=document.identifiant_message,
                version=document.version,
                iban=lu.iban,
                emis_le=lu.emis_le
                if timezone.is_aware(lu.emis_le)
                else timezone.make_aware(lu.emis_le),
                date_debut=lu.date_debut,
                date_fin=lu.date_fin,
                solde_ouverture=lu.solde_ouverture.montant,
                solde_cloture=lu.solde_cloture.montant,
                total_credits=lu.total_credits,
                total_debits=lu.total_debits,
                coherent=lu.coherent,
                empreinte=cle,
                nom_fichier=nom_fichier[:255],
                contenu=fichier,
                importe_par=auteur,
            )
    except IntegrityError as exc:  # the same file, imported meanwhile for another one
        existant = ReleveBancaire.objects.filter(empreinte=cle).first()
        if existant is not None:
            raise _deja_importe(existant, etablissement) from exc
        raise

    for ecriture in lu.ecritures:
        for a_ecrire in _lignes_de(ecriture):
            ligne = LigneReleve(
                releve=releve,
                etablissement=etablissement,
                position=a_ecrire.position,
                sous_position=a_ecrire.sous_position,
                montant=a_ecrire.montant,
                devise=ecriture.devise,
                sens=Sens.CREDIT if ecriture.sens == CREDIT else Sens.DEBIT,
                statut_ecriture=ecriture.statut[:4],
                contrepassation=ecriture.contrepassation,
                date_comptable=ecriture.date_comptable,
                date_valeur=ecriture.date_valeur,
                reference_bout_en_bout=a_ecrire.reference_bout_en_bout[:35],
                libelle=a_ecrire.libelle,
                nom_debiteur=a_ecrire.nom_debiteur[:140],
                iban_debiteur=a_ecrire.iban_debiteur[:34],
                nom_crediteur=a_ecrire.nom_crediteur[:140],
                iban_crediteur=a_ecrire.iban_crediteur[:34],
                reference_banque=a_ecrire.reference_banque[:35],
                reference_ecriture=ecriture.reference_ecriture[:35],
                note=a_ecrire.note,
            )
            original = None
            if ligne.reference_banque:
                original = (
                    LigneReleve.objects.select_related("releve")
                    .filter(
                        etablissement=etablissement,
                        reference_banque=ligne.reference_banque,
                        sous_position=ligne.sous_position,
                        doublon_de__isnull=True,
                    )
                    .first()
                )
            if original is not None:
                if (original.montant, original.sens) != (ligne.montant, ligne.sens):
                    raise ReleveRefuse(
                        f"L'écriture n° {ligne.position} porte la référence bancaire "
                        f"{ligne.reference_banque}, déjà importée avec le {original.releve} "
                        f"pour un autre montant ({original.get_sens_display().lower()} de "
                        f"{euros(original.montant)}) : le relevé n'a pas été importé. "
                        "Interrogez la banque."
                    )
                ligne.doublon_de = original
                ligne.statut_rapprochement = StatutRapprochement.IGNOREE
                ligne.note = (
                    f"Déjà importée avec le {original.releve} (ligne {original.position}) : "
                    "relevés qui se chevauchent."
                )
            else:
                _rapprocher(ligne, etablissement)
            ligne.save()
            if ligne.virement_id is not None:
                _journaliser(ligne, releve, auteur)
            if (
                ligne.ordre_id is not None
                and ligne.statut_rapprochement == StatutRapprochement.RAPPROCHEE
            ):
                _ordre_execute(ligne, releve, auteur)
    return releve


# --- Selectors -------------------------------------------------------------------------


def resume_releve(releve: ReleveBancaire) -> dict[str, int]:
    """Number of lines of the statement per matching state (every state present)."""
    comptes = dict(
        releve.lignes.values_list("statut_rapprochement").annotate(n=Count("pk")).order_by()
    )
    return {statut: comptes.get(statut, 0) for statut in StatutRapprochement.values}


def _lignes(etablissement: Etablissement, statut: str) -> QuerySet[LigneReleve]:
    return (
        LigneReleve.objects.filter(etablissement=etablissement, statut_rapprochement=statut)
        .select_related("releve", "virement", "ordre")
        .order_by("date_comptable", "releve_id", "position", "sous_position")
    )


def lignes_non_rapprochees(etablissement: Etablissement) -> QuerySet[LigneReleve]:
    """Credit lines carrying a portal reference that could not be matched (unknown,
    ambiguous, another establishment's, a transfer already matched or reported failed),
    reversals by the bank, and debits that pay no transmitted order of the portal."""
    return _lignes(etablissement, StatutRapprochement.NON_RAPPROCHEE)


def ecarts_de_montant(etablissement: Etablissement) -> QuerySet[LigneReleve]:
    """Lines matched to a transfer, or debits matched to an order, whose amount differs."""
    return _lignes(etablissement, StatutRapprochement.MONTANT_DIFFERENT)


def jour_limite(aujourdhui: datetime.date, delai_jours_ouvres: int) -> datetime.date:
    """The `delai_jours_ouvres`-th most recent business day (Monday to Friday) up to
    `aujourdhui` included: what was executed before it has had that many business days
    to reach the bank statement."""
    jour = aujourdhui
    restants = delai_jours_ouvres
    while True:
        if jour.weekday() < 5:
            restants -= 1
            if restants <= 0:
                return jour
        jour -= datetime.timedelta(days=1)


def virements_executes_sans_ligne(
    etablissement: Etablissement | None,
    delai_jours_ouvres: int = DELAI_JOURS_OUVRES,
    *,
    aujourdhui: datetime.date | None = None,
) -> QuerySet[Virement]:
    """Transfers executed by the relative's bank at least `delai_jours_ouvres` business
    days ago (weekends skipped, public holidays not) that no bank line proves yet.
    `etablissement=None`: every establishment (the periodic alert)."""
    aujourdhui = aujourdhui or dates.aujourdhui()
    limite = timezone.make_aware(
        datetime.datetime.combine(jour_limite(aujourdhui, delai_jours_ouvres), datetime.time.min)
    )
    prouve = LigneReleve.objects.filter(
        virement=OuterRef("pk"), statut_rapprochement__in=STATUTS_RAPPROCHES
    )
    virements = Virement.objects.filter(
        ~Exists(prouve), statut_paiement=StatutPaiement.EXECUTE, execute_le__lt=limite
    )
    if etablissement is not None:
        virements = virements.filter(etablissement=etablissement)
    return virements.select_related("detenu", "etablissement").order_by("execute_le", "pk")


def ordres_transmis_sans_ligne(
    etablissement: Etablissement,
    delai_jours_ouvres: int = DELAI_JOURS_OUVRES,
    *,
    aujourdhui: datetime.date | None = None,
) -> QuerySet[OrdreVirement]:
    """Orders transmitted to the bank at least `delai_jours_ouvres` business days ago
    that no debit line of a statement proves paid, nor a status report rejected."""
    aujourdhui = aujourdhui or dates.aujourdhui()
    limite = timezone.make_aware(
        datetime.datetime.combine(jour_limite(aujourdhui, delai_jours_ouvres), datetime.time.min)
    )
    return (
        OrdreVirement.objects.filter(
            etablissement=etablissement,
            statut=StatutOrdre.TRANSMIS,
            remise__transmise_le__lt=limite,
        )
        .select_related("remise", "compte__detenu")
        .order_by("remise__transmise_le", "pk")
    )


# --- The bank's status report on a batch (pain.002) --------------------------------------


@dataclass(frozen=True)
class _RejetGroupe:
    reference_bout_en_bout: str
    code_raison: str
    raison: str


class RapportRefuse(ReleveRefuse):
    code = "rapport_pain002_refuse"


@transaction.atomic
def importer_rapport_pain002(
    *, etablissement: Etablissement, fichier: bytes, auteur, nom_fichier: str = ""
) -> RapportPain002:
    """Import the bank's status report on one of the establishment's batches: each
    rejected transaction rejects its order (its money put back where it came from, with
    the bank's reason), and the establishment's régisseurs are told. The same file
    twice, a report on an unknown batch or naming an order that is not in the batch is
    refused as a whole: nothing changes."""
    verifier_droits(auteur, etablissement, PERMISSION_IMPORT, "importer un compte rendu")
    cle = empreinte(fichier)
    deja = RapportPain002.objects.filter(empreinte=cle).select_related("remise").first()
    if deja is not None:
        raise ReleveDejaImporte(
            f"Ce compte rendu a déjà été importé le "
            f"{timezone.localtime(deja.importe_le):%d/%m/%Y à %H:%M} : rien n'a été modifié."
        )
    try:
        rapport = lire_pain002(fichier)
    except Pain002Invalide as exc:
        raise RapportRefuse(exc.message) from exc
    remise = (
        Remise.objects.select_for_update()
        .filter(etablissement=etablissement, reference=rapport.message_origine)
        .first()
    )
    if remise is None:
        raise RapportRefuse(
            f"Ce compte rendu concerne la remise « {rapport.message_origine} », qui n'est pas "
            f"une remise de {etablissement.nom} : rien n'a été modifié."
        )
    ordres = {o.reference: o for o in remise.ordres.all()}
    inconnues = [
        t.reference_bout_en_bout
        for t in rapport.transactions
        if t.reference_bout_en_bout not in ordres
    ]
    if inconnues:
        raise RapportRefuse(
            f"Le compte rendu cite des virements qui ne sont pas dans la remise "
            f"{remise.reference} ({', '.join(inconnues[:5])}) : rien n'a été modifié."
        )
    rejets = [t for t in rapport.transactions if t.rejetee]
    if rapport.statut_groupe == "RJCT" and not rapport.transactions:
        # The whole batch rejected, without the detail of each transfer.
        rejets = [
            _RejetGroupe(o.reference, rapport.code_raison_groupe, rapport.raison_groupe)
            for o in ordres.values()
        ]
    systeme = "" if auteur else AUTEUR_BANQUE
    rejetes = []
    for rejet in rejets:
        ordre = ordres[rejet.reference_bout_en_bout]
        if ordre.statut == StatutOrdre.REJETE:
            continue
        if ordre.statut != StatutOrdre.TRANSMIS:
            raise RapportRefuse(
                f"L'ordre {ordre.reference} est « {ordre.get_statut_display().lower()} » : la "
                "banque ne peut pas le rejeter. Rien n'a été modifié ; interrogez la banque."
            )
        regie.constater_rejet(
            ordre=ordre,
            code=rejet.code_raison,
            motif=rejet.raison,
            auteur=auteur,
            auteur_systeme=systeme,
        )
        rejetes.append(ordre)
    rapport_enregistre = RapportPain002.objects.create(
        etablissement=etablissement,
        remise=remise,
        identifiant_message=rapport.identifiant_message[:35],
        statut_groupe=rapport.statut_groupe[:4],
        nombre_rejets=len(rejetes),
        empreinte=cle,
        nom_fichier=nom_fichier[:255],
        contenu=fichier,
        importe_par=auteur,
    )
    if rejetes:
        lignes = "\n".join(
            f"- {o.reference} : {euros(o.montant)} à {o.beneficiaire_nom} ({o.code_rejet} "
            f"{o.motif_rejet})"
            for o in rejetes
        )
        regie.prevenir(
            etablissement,
            "regie.passer_ecriture",
            f"Pécule – {len(rejetes)} virement(s) rejeté(s) par la banque ({etablissement.nom})",
            f"La banque a rejeté des virements de la remise {remise.reference}. Leur montant "
            "est remis sur le compte nominatif d'origine (ou, pour un virement retourné, "
            "dans la file « à traiter »). Vérifiez les coordonnées et émettez-les de "
            f"nouveau.\n\n{lignes}\n",
        )
    return rapport_enregistre
