from django.apps import AppConfig

from socle.formats import pluriel


class PeculeConfig(AppConfig):
    name = "pecule"
    verbose_name = "Virements des proches"

    def a_faire(self, request):
        """The admin home page's « À faire » (socle.admin.a_faire): the transfers held for
        the régisseur's decision, and those whose success came after a failure, in the
        user's establishments."""
        from django.urls import reverse

        from regie.admin_perimetre import filtrer_par_etablissement
        from socle.admin import AFaire

        from . import selectors
        from .admin.virements import VirementAdmin
        from .models import Virement

        utilisateur = request.user
        # Those who decide (the decision page's permission), not everyone who may read.
        if not (
            utilisateur.has_perm("pecule.view_virement")
            and utilisateur.has_perm("regie.passer_ecriture")
        ):
            return []
        virements = filtrer_par_etablissement(
            Virement.objects.all(), utilisateur, VirementAdmin.chemin_etablissement
        )
        liste = reverse("admin:pecule_virement_changelist")
        a_traiter = selectors.virements_a_traiter(virements).count()
        a_verifier = selectors.virements_a_verifier(virements).count()
        return [
            AFaire(
                a_traiter,
                pluriel(a_traiter, "virement", "virements")
                + " à traiter : créditer ou retourner à l'émetteur",
                f"{liste}?a_traiter=oui",
            ),
            AFaire(
                a_verifier,
                pluriel(a_verifier, "virement", "virements")
                + " à vérifier : succès annoncé par le prestataire après un échec",
                f"{liste}?a_traiter=verifier",
            ),
        ]
