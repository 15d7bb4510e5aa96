"""What an establishment's information system may change through the API: its detainees
(never a transfer or a release, which move money)."""

import datetime

from django.db import transaction
from django.utils import timezone

from regie import services as regie_services
from regie.exceptions import DroitsInsuffisants
from regie.models import Detenu, Regime, StatutPenal

from ..exceptions import (
    DetenuLibere,
    TransfertASignaler,
)
from ..identite import noms_concordent
from ..models import (
    JetonSystemeInformation,
    SignalementTransfert,
)

# --- The establishment's information system (API) ----------------------------------------

NON_FOURNI = object()


def _personne_ecrouee_ailleurs(etablissement, nom, prenoms, date_naissance) -> Detenu | None:
    candidats = (
        Detenu.objects.filter(date_naissance=date_naissance, libere_le__isnull=True)
        .exclude(etablissement=etablissement)
        .order_by("pk")
    )
    for candidat in candidats:
        if noms_concordent(candidat.nom, nom) and noms_concordent(candidat.prenoms, prenoms):
            return candidat
    return None


def mettre_a_jour_detenu_depuis_si(
    *,
    jeton: JetonSystemeInformation,
    numero_ecrou: str,
    nom: str,
    prenoms: str,
    date_naissance: datetime.date,
    statut_penal: str | None = None,
    regime: str | None = None,
    prive_de_subsides_jusquau=NON_FOURNI,
) -> tuple[Detenu, bool]:
    """Create or update, from the information system of the token's establishment, the
    detainee `numero_ecrou` there. Returns (detenu, created).

    - Creation goes through `regie.services.ecrouer` (it opens the compte nominatif).
    - Update: identity, situation pénale, régime and deprivation of subsidies only.
      None of these moves money; `statut_penal`/`regime` left out (None) are unchanged,
      `prive_de_subsides_jusquau` left out is unchanged and None clears it.
    - A transfer or a release moves money: never from here. If the person is held in
      another establishment, the report is recorded (SignalementTransfert) for the régie,
      which performs the transfer (`regie.services.transferer_detenu`), and
      TransfertASignaler is raised; a released detainee raises DetenuLibere.
    """
    if not jeton.actif:
        raise DroitsInsuffisants("Ce jeton a été révoqué.")
    etablissement = jeton.etablissement
    numero_ecrou = (numero_ecrou or "").strip()
    a_signaler = None
    with transaction.atomic():
        detenu = (
            Detenu.objects.select_for_update(of=("self",))
            .filter(etablissement=etablissement, numero_ecrou=numero_ecrou)
            .first()
        )
        if detenu is None:
            ailleurs = _personne_ecrouee_ailleurs(etablissement, nom, prenoms, date_naissance)
            if ailleurs is None:
                detenu = regie_services.ecrouer(
                    etablissement=etablissement,
                    auteur=None,
                    numero_ecrou=numero_ecrou,
                    nom=nom.strip(),
                    prenoms=prenoms.strip(),
                    date_naissance=date_naissance,
                    statut_penal=statut_penal or StatutPenal.PREVENU,
                    regime=regime or Regime.ORDINAIRE,
                    prive_de_subsides_jusquau=(
                        None
                        if prive_de_subsides_jusquau is NON_FOURNI
                        else prive_de_subsides_jusquau
                    ),
                )
                return detenu, True
            maintenant = timezone.now()
            donnees = {
                "numero_ecrou": numero_ecrou,
                "nom": nom,
                "prenoms": prenoms,
                "date_naissance": date_naissance.isoformat(),
                "statut_penal": statut_penal,
                "regime": regime,
            }
            a_signaler, cree = SignalementTransfert.objects.get_or_create(
                detenu=ailleurs,
                etablissement_destination=etablissement,
                nouveau_numero_ecrou=numero_ecrou,
                defaults={
                    "etablissement_origine": ailleurs.etablissement,
                    "donnees": donnees,
                    "jeton": jeton,
                    "signale_le": maintenant,
                    "dernier_signalement": maintenant,
                },
            )
            if not cree:
                a_signaler.donnees = donnees
                a_signaler.jeton = jeton
                a_signaler.dernier_signalement = maintenant
                a_signaler.save(update_fields=["donnees", "jeton", "dernier_signalement"])
        else:
            if detenu.libere_le is not None:
                raise DetenuLibere(
                    f"La personne détenue n° d'écrou {numero_ecrou} a été libérée le "
                    f"{detenu.libere_le:%d/%m/%Y} : elle ne peut plus être modifiée."
                )
            valeurs = {
                "nom": nom.strip(),
                "prenoms": prenoms.strip(),
                "date_naissance": date_naissance,
            }
            if statut_penal is not None:
                valeurs["statut_penal"] = statut_penal
            if regime is not None:
                valeurs["regime"] = regime
            if prive_de_subsides_jusquau is not NON_FOURNI:
                valeurs["prive_de_subsides_jusquau"] = prive_de_subsides_jusquau
            changes = [c for c, v in valeurs.items() if getattr(detenu, c) != v]
            for champ in changes:
                setattr(detenu, champ, valeurs[champ])
            if changes:
                detenu.full_clean()
                detenu.save(update_fields=changes)
            return detenu, False
    raise TransfertASignaler(
        "Cette personne est écrouée dans un autre établissement selon Pécule. Le transfert de "
        "son compte nominatif doit d'abord être fait par la régie ; il lui a été signalé.",
        signalement=a_signaler.pk,
    )
