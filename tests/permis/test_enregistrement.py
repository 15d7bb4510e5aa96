"""« Ajouter un permis de visite »: matching, refusals that leak nothing, rate limits,
and the permit that allows a transfer."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils import timezone

from permis import selectors, services
from permis.exceptions import PermisRefuse, TransitionInterdite, TropDeTentatives
from permis.models import (
    ActionPermis,
    EvenementPermis,
    MotifTentative,
    PermisDeVisite,
    PermisEnregistre,
    StatutPermis,
    TentativeEnregistrement,
)
from tests.factories import DetenuFactory, UtilisateurFactory

from .conftest import AUJOURDHUI, permis, proche

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def enregistrer(qui, permis_, *, ip=IP, **kw):
    donnees = {
        "proche": qui,
        "numero": permis_.numero,
        "etablissement_code": permis_.etablissement.code,
        "numero_ecrou": permis_.detenu.numero_ecrou,
        "adresse_ip": ip,
        **kw,
    }
    return services.enregistrer_permis(**donnees)


def refus(qui, permis_, **kw) -> PermisRefuse:
    with pytest.raises(PermisRefuse) as info:
        enregistrer(qui, permis_, **kw)
    return info.value


# --- Accepted -------------------------------------------------------------------------


def test_accepte_sans_casse_ni_accents(permis_a):
    """Permit « LEFÈVRE Héloïse Éléonore », FranceConnect « Lefevre HELOISE ELEONORE »."""
    qui = proche(nom="Lefevre", prenoms="HELOISE ELEONORE")
    enregistrement = enregistrer(qui, permis_a, numero=" pv-2026-001 ")
    assert enregistrement.permis == permis_a
    assert enregistrement.proche == qui
    tentative = TentativeEnregistrement.objects.get()
    assert tentative.succes and tentative.motif == MotifTentative.ACCEPTE
    assert tentative.permis == permis_a and tentative.etablissement == permis_a.etablissement


def test_accepte_avec_le_nom_et_la_date_de_naissance_du_detenu(permis_a):
    qui = proche(nom="lefèvre", prenoms="Héloïse Éléonore")
    enregistrement = enregistrer(
        qui,
        permis_a,
        numero_ecrou="",
        nom_detenu="Martin",
        date_naissance_detenu=datetime.date(1990, 7, 14),
        etablissement=permis_a.etablissement,
        etablissement_code="",
    )
    assert enregistrement.permis == permis_a


def test_accepte_le_premier_prenom_seul_sur_le_permis(detenu):
    p = permis(detenu, titulaire_nom="Dupont", titulaire_prenoms="Angela")
    qui = proche(nom="DUPONT", prenoms="Angela Claire Louise")
    assert enregistrer(qui, p).permis == p


def test_plusieurs_permis_pour_le_meme_proche(detenu, etab_a):
    autre = DetenuFactory(etablissement=etab_a, numero_ecrou="777")
    p1, p2 = permis(detenu), permis(autre)
    qui = proche()
    enregistrer(qui, p1)
    enregistrer(qui, p2)
    assert list(selectors.permis_du_proche(qui).values_list("permis", flat=True)) == [
        p2.pk,
        p1.pk,
    ]


# --- Refused without revealing anything ---------------------------------------------------


def test_meme_message_generique_sans_fuite(permis_a, etab_a):
    """No such permit, another detainee, another holder: one message, one code (each
    case by a new relative, under the rate limit)."""
    autre_detenu = DetenuFactory(etablissement=etab_a, numero_ecrou="99999")
    cas = {
        "numero inexistant": refus(proche(), permis_a, numero="PV-0000-404"),
        "mauvais écrou": refus(proche(), permis_a, numero_ecrou="99999"),
        "écrou inexistant": refus(proche(), permis_a, numero_ecrou="00000"),
        "mauvais nom du détenu": refus(
            proche(),
            permis_a,
            numero_ecrou="",
            nom_detenu="DURAND",
            date_naissance_detenu=datetime.date(1990, 7, 14),
        ),
        "mauvaise date de naissance du détenu": refus(
            proche(),
            permis_a,
            numero_ecrou="",
            nom_detenu="MARTIN",
            date_naissance_detenu=datetime.date(1990, 7, 15),
        ),
        "titulaire différent": refus(proche(nom="Durand"), permis_a),
        "prénom différent": refus(proche(prenoms="Claire"), permis_a),
        "naissance du titulaire différente": refus(
            proche(naissance=datetime.date(1985, 4, 3)), permis_a
        ),
        "autre établissement": refus(
            proche(), permis_a, etablissement_code=DetenuFactory().etablissement.code
        ),
    }
    assert autre_detenu.pk
    messages = {(str(exc), exc.code, type(exc)) for exc in cas.values()}
    assert messages == {
        (services.MESSAGE_VERIFICATION_IMPOSSIBLE, "verification_impossible", PermisRefuse)
    }
    # The exception carries nothing else (no precise reason, no detainee).
    for exc in cas.values():
        assert exc.details == {}
        assert not hasattr(exc, "motif")
    # The audit keeps the precise reason.
    motifs = set(TentativeEnregistrement.objects.values_list("motif", flat=True))
    assert motifs == {
        MotifTentative.PERMIS_INTROUVABLE,
        MotifTentative.DETENU_DIFFERENT,
        MotifTentative.TITULAIRE_DIFFERENT,
    }
    assert not PermisEnregistre.objects.exists()


def test_identite_du_detenu_manquante(permis_a):
    exc = refus(proche(), permis_a, numero_ecrou="", nom_detenu="Martin")
    assert exc.code == "identite_detenu_manquante"


def test_etablissement_inconnu(permis_a):
    exc = refus(proche(), permis_a, etablissement_code="NEXISTEPAS")
    assert exc.code == "etablissement_inconnu"


@pytest.mark.parametrize(
    "changement",
    [
        {"statut": StatutPermis.SUSPENDU},
        {"statut": StatutPermis.RETIRE},
        {"statut": StatutPermis.EXPIRE},
        {"date_fin": AUJOURDHUI - datetime.timedelta(days=1)},
    ],
    ids=["suspendu", "retiré", "expiré", "date de fin passée"],
)
def test_permis_pas_actif(permis_a, changement):
    PermisDeVisite.objects.filter(pk=permis_a.pk).update(
        date_debut=datetime.date(2025, 1, 1), **changement
    )
    exc = refus(proche(), permis_a)
    assert exc.code == MotifTentative.PERMIS_INACTIF
    assert "pas actif" in str(exc)
    assert str(exc) == services.MESSAGE_PERMIS_INACTIF


def test_permis_pas_encore_valable(detenu):
    p = permis(detenu, date_debut=AUJOURDHUI + datetime.timedelta(days=3))
    exc = refus(proche(), p)
    assert exc.code == MotifTentative.PERMIS_A_VENIR
    assert "13/03/2026" in str(exc)


def test_detenu_libere(permis_a):
    type(permis_a.detenu).objects.filter(pk=permis_a.detenu_id).update(libere_le=AUJOURDHUI)
    assert refus(proche(), permis_a).code == MotifTentative.PERMIS_INUTILISABLE


def test_deja_enregistre(permis_a):
    qui = proche()
    enregistrer(qui, permis_a)
    exc = refus(qui, permis_a)
    assert exc.code == "deja_enregistre"
    assert str(exc) == "Ce permis de visite est déjà enregistré sur votre compte."
    assert PermisEnregistre.objects.count() == 1


def test_seul_un_proche_franceconnect(permis_a):
    with pytest.raises(ValueError):
        enregistrer(UtilisateurFactory(), permis_a)  # staff, no fc_sub
    with pytest.raises(ValueError):
        enregistrer(UtilisateurFactory(is_staff=False), permis_a)  # no fc_sub
    with pytest.raises(ValueError):
        enregistrer(proche(is_active=False), permis_a)
    with pytest.raises(ValueError):
        enregistrer(proche(), permis_a, ip="pas une adresse")
    assert not TentativeEnregistrement.objects.exists()


# --- Rate limits --------------------------------------------------------------------------


def test_limite_par_proche(permis_a):
    qui = proche()
    for _ in range(services.LIMITE_ECHECS_PAR_PROCHE):
        refus(qui, permis_a, numero="FAUX")
    # Even the right permit is refused now, with the wait in French.
    with pytest.raises(TropDeTentatives) as info:
        enregistrer(qui, permis_a)
    assert "Réessayez dans 60 minutes" in str(info.value)
    assert info.value.code == "trop_de_tentatives"
    # Another relative on another address is not affected.
    assert enregistrer(proche(), permis_a, ip="198.51.100.1")
    # Blocked attempts are recorded but do not extend the wait.
    assert TentativeEnregistrement.objects.filter(
        proche=qui, motif=MotifTentative.TROP_DE_TENTATIVES
    ).exists()
    # When the oldest failure leaves the hour, one attempt is allowed again.
    premiere = TentativeEnregistrement.objects.filter(proche=qui).order_by("quand").first()
    TentativeEnregistrement.objects.filter(pk=premiere.pk).update(
        quand=timezone.now() - datetime.timedelta(minutes=61)
    )
    assert enregistrer(qui, permis_a).permis == permis_a


def test_attente_annoncee(permis_a):
    qui = proche()
    for _ in range(services.LIMITE_ECHECS_PAR_PROCHE):
        refus(qui, permis_a, numero="FAUX")
    TentativeEnregistrement.objects.filter(proche=qui).update(
        quand=timezone.now() - datetime.timedelta(minutes=45, seconds=30)
    )
    with pytest.raises(TropDeTentatives) as info:
        enregistrer(qui, permis_a)
    assert "Réessayez dans 15 minutes." in str(info.value)
    assert datetime.timedelta(minutes=14) < info.value.attente <= datetime.timedelta(minutes=15)


def test_limite_par_adresse(permis_a):
    for _ in range(services.LIMITE_ECHECS_PAR_ADRESSE):
        refus(proche(), permis_a, numero="FAUX")
    with pytest.raises(TropDeTentatives):
        enregistrer(proche(), permis_a)
    assert enregistrer(proche(), permis_a, ip="198.51.100.1")


def test_limite_par_reseau_ipv6(permis_a):
    for i in range(services.LIMITE_ECHECS_PAR_ADRESSE):
        refus(proche(), permis_a, numero="FAUX", ip=f"2001:db8:1:2::{i + 1:x}")
    with pytest.raises(TropDeTentatives):
        enregistrer(proche(), permis_a, ip="2001:db8:1:2:ffff::1")  # same /64
    assert enregistrer(proche(), permis_a, ip="2001:db8:1:3::1")


def test_limites_reglables(settings, permis_a):
    settings.PERMIS_LIMITE_ECHECS_PAR_PROCHE = 2
    qui = proche()
    refus(qui, permis_a, numero="FAUX")
    refus(qui, permis_a, numero="FAUX")
    with pytest.raises(TropDeTentatives):
        enregistrer(qui, permis_a)


def test_deja_enregistre_ne_compte_pas(permis_a):
    qui = proche()
    enregistrer(qui, permis_a)
    for _ in range(services.LIMITE_ECHECS_PAR_PROCHE + 2):
        assert refus(qui, permis_a).code == "deja_enregistre"


def test_purge(permis_a):
    refus(proche(), permis_a, numero="FAUX")
    assert services.purger_tentatives(avant=timezone.now() + datetime.timedelta(seconds=1)) == 1


# --- The permit that allows a transfer ---------------------------------------------------


def test_retrait_apres_enregistrement(permis_a):
    qui = proche()
    enregistrer(qui, permis_a)
    detenu = permis_a.detenu
    assert selectors.permis_valide_pour_virement(qui, detenu, AUJOURDHUI) == permis_a
    services.retirer_permis(permis=permis_a, motif="Incident au parloir")
    assert selectors.permis_valide_pour_virement(qui, detenu, AUJOURDHUI) is None
    enregistrement = selectors.permis_du_proche(qui).get()
    assert enregistrement.permis.etat(AUJOURDHUI).label == "Retiré"


def test_suspension_puis_reactivation(permis_a):
    qui = proche()
    enregistrer(qui, permis_a)
    services.suspendre_permis(permis=permis_a)
    assert selectors.permis_valide_pour_virement(qui, permis_a.detenu, AUJOURDHUI) is None
    services.reactiver_permis(permis=permis_a)
    assert selectors.permis_valide_pour_virement(qui, permis_a.detenu, AUJOURDHUI) == permis_a
    actions = list(EvenementPermis.objects.filter(permis=permis_a).values_list("action", flat=True))
    assert actions == [ActionPermis.CREATION, ActionPermis.SUSPENSION, ActionPermis.REACTIVATION]


def test_permis_valide_pour_virement(permis_a, etab_b):
    qui = proche()
    enregistrer(qui, permis_a)
    detenu = permis_a.detenu
    valide = selectors.permis_valide_pour_virement
    assert valide(qui, detenu, AUJOURDHUI) == permis_a
    assert valide(qui, detenu, datetime.date(2027, 1, 1)) is None  # after date_fin
    assert valide(qui, detenu, datetime.date(2025, 12, 31)) is None  # before date_debut
    assert valide(proche(), detenu, AUJOURDHUI) is None  # not registered
    assert valide(qui, DetenuFactory(etablissement=detenu.etablissement), AUJOURDHUI) is None
    # FranceConnect identity changed since: no longer the holder.
    qui.fc_family_name = "Durand"
    qui.save()
    assert valide(qui, detenu, AUJOURDHUI) is None
    qui.fc_family_name = "Lefevre"
    qui.save()
    # Detainee transferred elsewhere: the permit of A no longer allows transfers.
    type(detenu).objects.filter(pk=detenu.pk).update(etablissement=etab_b)
    assert valide(qui, detenu, AUJOURDHUI) is None


def test_est_valide_et_queryset_concordent(detenu, etab_b):
    cas = [
        permis(detenu),
        permis(detenu, statut=StatutPermis.SUSPENDU),
        permis(detenu, date_fin=None),
        permis(detenu, date_debut=AUJOURDHUI, date_fin=AUJOURDHUI),
        permis(detenu, date_debut=AUJOURDHUI + datetime.timedelta(days=1)),
        permis(detenu, date_fin=AUJOURDHUI - datetime.timedelta(days=1)),
    ]
    attendus = [True, False, True, True, False, False]
    valides = set(PermisDeVisite.objects.valides(AUJOURDHUI).values_list("pk", flat=True))
    for p, attendu in zip(cas, attendus, strict=True):
        p.refresh_from_db()
        assert p.est_valide(AUJOURDHUI) is attendu
        assert (p.pk in valides) is attendu


def test_selecteur_404_pour_un_autre_proche(permis_a):
    moi, autre = proche(), proche()
    a_moi = enregistrer(moi, permis_a)
    a_lautre = enregistrer(autre, permis_a, ip="198.51.100.2")
    assert selectors.permis_enregistre_du_proche_ou_404(moi, a_moi.pk) == a_moi
    with pytest.raises(Http404):
        selectors.permis_enregistre_du_proche_ou_404(moi, a_lautre.pk)
    with pytest.raises(Http404):
        selectors.permis_enregistre_du_proche_ou_404(moi, 999999)


# --- Keeping the permits -------------------------------------------------------------------


def test_retrait_definitif(permis_a):
    services.retirer_permis(permis=permis_a, motif="Décision du chef d'établissement")
    assert services.retirer_permis(permis=permis_a).statut == StatutPermis.RETIRE  # idempotent
    with pytest.raises(TransitionInterdite):
        services.reactiver_permis(permis=permis_a)
    with pytest.raises(TransitionInterdite):
        services.modifier_permis(permis=permis_a, date_fin=datetime.date(2027, 1, 1))


def test_expirer_permis_echus(detenu):
    echu = permis(detenu, date_fin=AUJOURDHUI - datetime.timedelta(days=1))
    suspendu_echu = permis(
        detenu, statut=StatutPermis.SUSPENDU, date_fin=AUJOURDHUI - datetime.timedelta(days=5)
    )
    en_cours = permis(detenu, date_fin=AUJOURDHUI)
    assert sorted(services.expirer_permis_echus(jour=AUJOURDHUI)) == sorted(
        [echu.pk, suspendu_echu.pk]
    )
    statuts = dict(PermisDeVisite.objects.values_list("pk", "statut"))
    assert statuts[echu.pk] == statuts[suspendu_echu.pk] == StatutPermis.EXPIRE
    assert statuts[en_cours.pk] == StatutPermis.ACTIF
    assert EvenementPermis.objects.filter(action=ActionPermis.EXPIRATION).count() == 2
    assert services.expirer_permis_echus(jour=AUJOURDHUI) == []


def test_permis_dans_l_etablissement_du_detenu(detenu, etab_b):
    with pytest.raises(ValidationError) as info:
        services.creer_permis(
            etablissement=etab_b,
            numero="X1",
            detenu=detenu,
            titulaire_nom="A",
            titulaire_prenoms="B",
            titulaire_date_naissance=datetime.date(1980, 1, 1),
            date_debut=AUJOURDHUI,
        )
    assert "detenu" in info.value.message_dict


def test_contrainte_des_dates(permis_a):
    with pytest.raises(IntegrityError):
        PermisDeVisite.objects.filter(pk=permis_a.pk).update(date_fin=datetime.date(2020, 1, 1))


def test_verrou_pour_le_credit(permis_a):
    from django.db import transaction

    qui = proche()
    enregistrer(qui, permis_a)
    with transaction.atomic():
        assert (
            selectors.permis_valide_pour_virement(
                qui, permis_a.detenu, AUJOURDHUI, verrouiller=True
            )
            == permis_a
        )
