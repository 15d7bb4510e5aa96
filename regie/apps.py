from django.apps import AppConfig

from socle.formats import pluriel


class RegieConfig(AppConfig):
    name = "regie"
    verbose_name = "Régie des comptes nominatifs"

    def a_faire(self, request):
        """The admin home page's « À faire » (socle.admin.a_faire): the D.422 requests
        waiting for the chef's decision, and those of a prévenu waiting for the
        magistrate's, in the user's establishments, for whoever may take that step."""
        from django.db.models import Q
        from django.urls import reverse

        from socle.admin import AFaire

        from .admin_perimetre import filtrer_par_etablissement
        from .models import AutorisationD422, StatutD422, StatutPenal

        utilisateur = request.user
        demandes = filtrer_par_etablissement(
            AutorisationD422.objects.filter(statut=StatutD422.DEMANDEE),
            utilisateur,
            "etablissement",
        )
        liste = reverse("admin:regie_autorisationd422_changelist") + "?statut__exact=demandee"
        entrees = []
        if utilisateur.has_perm("regie.decider_d422"):
            nombre = demandes.filter(
                Q(detenu__statut_penal=StatutPenal.CONDAMNE) | ~Q(magistrat_decision="")
            ).count()
            entrees.append(
                AFaire(
                    nombre,
                    pluriel(nombre, "demande", "demandes")
                    + " de subside exonéré (D.422) à décider",
                    liste,
                )
            )
        if utilisateur.has_perm("regie.enregistrer_decision_magistrat"):
            nombre = (
                demandes.exclude(detenu__statut_penal=StatutPenal.CONDAMNE)
                .filter(magistrat_decision="")
                .count()
            )
            entrees.append(
                AFaire(
                    nombre,
                    pluriel(nombre, "décision", "décisions")
                    + " du magistrat à enregistrer (D.422, personne prévenue)",
                    liste,
                )
            )
        return entrees + self._a_faire_sorties(utilisateur)

    def _a_faire_sorties(self, utilisateur):
        """Money out: the payment orders another person prepared, waiting for the second
        look; the validated ones to put in a remittance for the bank; the remittances not
        yet downloaded; the proposed changes of the régie's account (four eyes)."""
        from django.urls import reverse

        from socle.admin import AFaire

        from .admin_perimetre import filtrer_par_etablissement
        from .models import (
            ChangementCompteRegie,
            OrdreVirement,
            Remise,
            StatutChangementCompte,
            StatutOrdre,
            StatutRemise,
        )
        from .services.compte_regie import PERMISSION_APPROUVER
        from .services.ordres import PERMISSION_REMISE, PERMISSION_VALIDER

        def perimetre(objets):
            return filtrer_par_etablissement(objets, utilisateur, "etablissement")

        ordres = reverse("admin:regie_ordrevirement_changelist")
        entrees = []
        if utilisateur.has_perm(PERMISSION_VALIDER):
            nombre = (
                perimetre(OrdreVirement.objects.filter(statut=StatutOrdre.PREPARE))
                .exclude(prepare_par=utilisateur)
                .count()
            )
            entrees.append(
                AFaire(
                    nombre,
                    pluriel(nombre, "ordre de virement", "ordres de virement")
                    + " à valider ou refuser (second regard)",
                    f"{ordres}?statut__exact={StatutOrdre.PREPARE}",
                )
            )
        if utilisateur.has_perm(PERMISSION_REMISE):
            nombre = perimetre(OrdreVirement.objects.filter(statut=StatutOrdre.VALIDE)).count()
            entrees.append(
                AFaire(
                    nombre,
                    pluriel(nombre, "ordre validé", "ordres validés")
                    + " à mettre dans une remise pour la banque",
                    f"{ordres}?statut__exact={StatutOrdre.VALIDE}",
                )
            )
            nombre = perimetre(Remise.objects.filter(statut=StatutRemise.CONSTITUEE)).count()
            entrees.append(
                AFaire(
                    nombre,
                    pluriel(nombre, "remise", "remises")
                    + " à transmettre : télécharger le fichier pour la banque",
                    reverse("admin:regie_remise_changelist")
                    + f"?statut__exact={StatutRemise.CONSTITUEE}",
                )
            )
        if utilisateur.has_perm(PERMISSION_APPROUVER):
            nombre = (
                perimetre(
                    ChangementCompteRegie.objects.filter(statut=StatutChangementCompte.PROPOSE)
                )
                .exclude(propose_par=utilisateur)
                .count()
            )
            entrees.append(
                AFaire(
                    nombre,
                    pluriel(nombre, "changement", "changements")
                    + " du compte bancaire de la régie à approuver ou refuser",
                    reverse("admin:regie_changementcompteregie_changelist")
                    + f"?statut__exact={StatutChangementCompte.PROPOSE}",
                )
            )
        return entrees
