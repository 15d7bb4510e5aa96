"""Tests of the pure répartition engine (spec 01-compte-nominatif.md, sections 2, 7, 8).

No database: the engine is plain Python and these tests use no Django fixture.
"""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regie.repartition import (
    PLAFOND_PARTIES_CIVILES,
    Situation,
    prelevements_cumules,
    repartir,
)

D = Decimal


def situation(
    *,
    cumul_mois="0.00",
    mois=6,
    sans_pecule=False,
    solde_parties_civiles="0.00",
    plafond_parties_civiles=False,
):
    return Situation(
        cumul_mois=D(cumul_mois),
        mois=mois,
        sans_pecule=sans_pecule,
        solde_parties_civiles=D(solde_parties_civiles),
        plafond_parties_civiles=plafond_parties_civiles,
    )


def parts(resultat):
    return (resultat.parties_civiles, resultat.pecule_liberation, resultat.part_disponible)


def deux_decimales(valeur):
    return isinstance(valeur, Decimal) and valeur.as_tuple().exponent == -2


def est_collision_d_un_centime(montant, cumul_mois):
    """The one documented case where the literal rule gives -0.01 to the part disponible.

    A receipt of 0.01 whose new total T1 is 600.05, 600.15, ... makes both half-up
    roundings (30 % band and 10 % pécule) step up at the same cent.
    """
    t1 = cumul_mois + montant
    return montant == D("0.01") and t1 > 600 and (t1 - 600) % D("0.10") == D("0.05")


# -- Section 7: worked examples ---------------------------------------------------------

# Example 19 (D.422 exempt subsidy, 300 -> 0 / 0 / 300 blocked) is not applicable at
# engine level: an exempt sum is not split at all and does not count in the monthly
# total. The service that credits receipts decides that; it is covered by the service
# tests, not here.
EXEMPLES = [
    pytest.param("150.00", {}, ("0.00", "0.00", "150.00"), id="ex01-below-allowance"),
    pytest.param("200.00", {}, ("0.00", "0.00", "200.00"), id="ex02-exactly-allowance"),
    pytest.param("200.01", {}, ("0.00", "0.00", "200.01"), id="ex03-one-cent-above"),
    pytest.param("200.05", {}, ("0.01", "0.01", "200.03"), id="ex04-half-up-rounding"),
    pytest.param("250.00", {}, ("10.00", "5.00", "235.00"), id="ex05-band-20"),
    pytest.param("400.00", {}, ("40.00", "20.00", "340.00"), id="ex06-top-of-band-20"),
    pytest.param("500.00", {}, ("65.00", "30.00", "405.00"), id="ex07-band-25"),
    pytest.param("600.00", {}, ("90.00", "40.00", "470.00"), id="ex08-top-of-band-25"),
    pytest.param(
        "5000.00",
        {"solde_parties_civiles": "2000.00", "plafond_parties_civiles": False},
        ("1410.00", "480.00", "3110.00"),
        id="ex09-part1-holds-2000-victims-known-no-ceiling",
    ),
    pytest.param("100.00", {"cumul_mois": "150.00"}, ("10.00", "5.00", "85.00"), id="ex10-T0-150"),
    pytest.param("100.00", {"cumul_mois": "350.00"}, ("22.50", "10.00", "67.50"), id="ex11-T0-350"),
    pytest.param(
        "200.00",
        {"cumul_mois": "300.00"},
        ("45.00", "20.00", "135.00"),
        id="ex12-wage-300-already-split-T0-300",
    ),
    # The counter restarts each month: the 600 of last month is not in cumul_mois.
    pytest.param("100.00", {"cumul_mois": "0.00"}, ("0.00", "0.00", "100.00"), id="ex13-new-month"),
    pytest.param("500.00", {"mois": 12}, ("25.00", "10.00", "465.00"), id="ex14-december"),
    pytest.param(
        "500.00",
        {"solde_parties_civiles": "1000.00", "plafond_parties_civiles": True},
        ("0.00", "30.00", "470.00"),
        id="ex15-ceiling-met-part1-holds-1000",
    ),
    pytest.param(
        "500.00",
        {"solde_parties_civiles": "980.00", "plafond_parties_civiles": True},
        ("20.00", "30.00", "450.00"),
        id="ex16-ceiling-met-part1-holds-980",
    ),
    # A prévenu never benefits from the ceiling: the caller passes plafond=False.
    pytest.param(
        "500.00",
        {"solde_parties_civiles": "1000.00", "plafond_parties_civiles": False},
        ("65.00", "30.00", "405.00"),
        id="ex17-prevenu-part1-holds-1000",
    ),
    pytest.param("500.00", {"sans_pecule": True}, ("65.00", "0.00", "435.00"), id="ex18-pse"),
    # Example 20 is a service-level example: of the 120 brought back from a permission
    # de sortir, the 80 handed out go back unsplit to the part disponible (service), and
    # only the excess of 40 is a subject receipt at T0 = 600, split by the engine as
    # 12 / 4 / 24. Total part disponible: 80 + 24 = 104, as in the spec.
    pytest.param(
        "40.00",
        {"cumul_mois": "600.00"},
        ("12.00", "4.00", "24.00"),
        id="ex20-permission-excess-40-of-120-T0-600",
    ),
]


@pytest.mark.parametrize(("montant", "champs", "attendu"), EXEMPLES)
def test_exemples_de_la_specification(montant, champs, attendu):
    resultat = repartir(D(montant), situation(**champs))

    assert parts(resultat) == tuple(D(x) for x in attendu)
    assert all(deux_decimales(x) for x in parts(resultat))
    assert sum(parts(resultat)) == D(montant)


def test_exemple_20_total_part_disponible():
    rendu_non_reparti = D("80.00")
    excedent = repartir(D("40.00"), situation(cumul_mois="600.00"))

    assert rendu_non_reparti + excedent.part_disponible == D("104.00")


def test_contrat_de_la_section_8():
    resultat = repartir(
        Decimal("100.00"),
        Situation(
            cumul_mois=Decimal("350.00"),
            mois=6,
            sans_pecule=False,
            solde_parties_civiles=Decimal("0.00"),
            plafond_parties_civiles=False,
        ),
    )

    assert resultat.parties_civiles == Decimal("22.50")
    assert resultat.pecule_liberation == Decimal("10.00")
    assert resultat.part_disponible == Decimal("67.50")


def test_situation_mots_cles_obligatoires_et_figee():
    with pytest.raises(TypeError):
        Situation(D("0"), 6, False, D("0"), False)  # positional arguments refused
    with pytest.raises(TypeError):
        Situation(cumul_mois=D("0"), mois=6, sans_pecule=False, solde_parties_civiles=D("0"))
    s = situation()
    with pytest.raises(AttributeError):
        s.mois = 7
    r = repartir(D("1.00"), s)
    with pytest.raises(AttributeError):
        r.part_disponible = D("0.00")


def test_montant_sans_decimales_rendu_avec_deux_decimales():
    resultat = repartir(D("250"), situation(cumul_mois="0"))

    assert parts(resultat) == (D("10.00"), D("5.00"), D("235.00"))
    assert all(deux_decimales(x) for x in parts(resultat))


def test_prelevements_cumules():
    assert prelevements_cumules(D("0.00"), 6) == (D("0.00"), D("0.00"))
    assert prelevements_cumules(D("200.05"), 6) == (D("0.01"), D("0.01"))
    assert prelevements_cumules(D("600.00"), 6) == (D("90.00"), D("40.00"))
    assert prelevements_cumules(D("600.00"), 12) == (D("50.00"), D("20.00"))
    assert prelevements_cumules(D("400.00"), 12) == (D("0.00"), D("0.00"))


# -- Section 8: invalid inputs ----------------------------------------------------------


@pytest.mark.parametrize(
    "montant",
    [
        pytest.param(D("0"), id="zero"),
        pytest.param(D("0.00"), id="zero-cents"),
        pytest.param(D("-0.01"), id="negative"),
        pytest.param(D("10.001"), id="three-decimals"),
        pytest.param(D("0.005"), id="half-cent"),
        pytest.param(D("NaN"), id="nan"),
        pytest.param(D("Infinity"), id="infinity"),
    ],
)
def test_montant_invalide(montant):
    with pytest.raises(ValueError, match="montant"):
        repartir(montant, situation())


@pytest.mark.parametrize(
    ("champs", "message"),
    [
        pytest.param({"cumul_mois": "-0.01"}, "cumul_mois", id="negative-cumul"),
        pytest.param({"cumul_mois": "1.001"}, "cumul_mois", id="cumul-three-decimals"),
        pytest.param({"mois": 0}, "mois", id="month-0"),
        pytest.param({"mois": 13}, "mois", id="month-13"),
        pytest.param({"mois": -1}, "mois", id="month-negative"),
        pytest.param({"solde_parties_civiles": "-1.00"}, "solde", id="negative-balance"),
    ],
)
def test_situation_invalide(champs, message):
    with pytest.raises(ValueError, match=message):
        repartir(D("100.00"), situation(**champs))


@pytest.mark.parametrize(
    "montant",
    [
        pytest.param(100.0, id="float"),
        pytest.param(100, id="int"),
        pytest.param("100.00", id="str"),
        pytest.param(None, id="none"),
    ],
)
def test_montant_qui_n_est_pas_un_decimal(montant):
    with pytest.raises(TypeError, match="Decimal"):
        repartir(montant, situation())


@pytest.mark.parametrize(
    "champs",
    [
        pytest.param({"cumul_mois": 0.0}, id="float-cumul"),
        pytest.param({"solde_parties_civiles": 0.0}, id="float-balance"),
        pytest.param({"mois": 6.0}, id="float-month"),
        pytest.param({"mois": True}, id="bool-month"),
        pytest.param({"sans_pecule": 1}, id="int-sans-pecule"),
        pytest.param({"plafond_parties_civiles": None}, id="none-plafond"),
    ],
)
def test_situation_mal_typee(champs):
    valeurs = {
        "cumul_mois": D("0.00"),
        "mois": 6,
        "sans_pecule": False,
        "solde_parties_civiles": D("0.00"),
        "plafond_parties_civiles": False,
    }
    valeurs.update(champs)
    with pytest.raises(TypeError):
        repartir(D("100.00"), Situation(**valeurs))


def test_situation_qui_n_en_est_pas_une():
    with pytest.raises(TypeError, match="Situation"):
        repartir(D("100.00"), {"cumul_mois": D("0.00"), "mois": 6})


def test_prelevements_cumules_invalide():
    with pytest.raises(ValueError):
        prelevements_cumules(D("-1.00"), 6)
    with pytest.raises(ValueError):
        prelevements_cumules(D("1.00"), 13)
    with pytest.raises(TypeError):
        prelevements_cumules(1.0, 6)


# -- Property-based tests ---------------------------------------------------------------


def centimes(minimum, maximum):
    return st.integers(minimum, maximum).map(lambda c: D(c).scaleb(-2))


montants = centimes(1, 1_000_000)
cumuls = centimes(0, 1_000_000)
soldes = centimes(0, 150_000)
mois = st.integers(1, 12)


@given(
    montant=montants,
    cumul=cumuls,
    m=mois,
    sans_pecule=st.booleans(),
    solde=soldes,
    plafond=st.booleans(),
)
def test_les_trois_parts_font_le_montant(montant, cumul, m, sans_pecule, solde, plafond):
    resultat = repartir(
        montant,
        Situation(
            cumul_mois=cumul,
            mois=m,
            sans_pecule=sans_pecule,
            solde_parties_civiles=solde,
            plafond_parties_civiles=plafond,
        ),
    )

    assert sum(parts(resultat)) == montant
    assert all(deux_decimales(x) for x in parts(resultat))
    assert resultat.parties_civiles >= 0
    assert resultat.pecule_liberation >= 0
    if est_collision_d_un_centime(montant, cumul) and not sans_pecule:
        # Documented edge case of the literal rule; see test_collision_d_un_centime.
        assert resultat.part_disponible >= D("-0.01")
    else:
        assert resultat.part_disponible >= 0
    if plafond:
        assert resultat.parties_civiles <= max(D("0.00"), PLAFOND_PARTIES_CIVILES - solde)


@given(montant=montants.filter(lambda x: x >= D("0.02")), cumul=cumuls, m=mois)
def test_aucune_part_negative_des_deux_centimes(montant, cumul, m):
    assert all(x >= 0 for x in parts(repartir(montant, situation(cumul_mois=cumul, mois=m))))


@pytest.mark.parametrize("m", [6, 12])
def test_collision_d_un_centime(m):
    """The only negative part of the literal rule: a 0.01 receipt landing on 600.x5.

    Both cumulative levies are exact half-cents there (P1 = 90.015 or 50.015, PL =
    40.005 or 20.005) and round up together. Keeping it preserves the totals; the
    exhaustive scan shows no other (amount 0.01, T0) pair gives a negative part.
    """
    resultat = repartir(D("0.01"), situation(cumul_mois="600.04", mois=m))
    assert parts(resultat) == (D("0.01"), D("0.01"), D("-0.01"))

    for cumul in (D(c).scaleb(-2) for c in range(0, 120_000)):
        r = repartir(D("0.01"), situation(cumul_mois=cumul, mois=m))
        negatif = any(x < 0 for x in parts(r))
        assert negatif == est_collision_d_un_centime(D("0.01"), cumul), cumul


@settings(deadline=None)
@given(
    data=st.data(),
    morceaux=st.lists(centimes(1, 80_000), min_size=1, max_size=8),
    cumul=centimes(0, 80_000),
    m=mois,
    sans_pecule=st.booleans(),
)
def test_decoupage_en_recus_dans_n_importe_quel_ordre(data, morceaux, cumul, m, sans_pecule):
    ordre = data.draw(st.permutations(morceaux))
    totaux = [D("0.00")] * 3
    t0 = cumul
    for montant in ordre:
        r = repartir(montant, situation(cumul_mois=t0, mois=m, sans_pecule=sans_pecule))
        totaux = [a + b for a, b in zip(totaux, parts(r), strict=True)]
        t0 += montant

    unique = repartir(sum(ordre), situation(cumul_mois=cumul, mois=m, sans_pecule=sans_pecule))
    assert tuple(totaux) == parts(unique)


@settings(deadline=None)
@given(
    data=st.data(),
    morceaux=st.lists(centimes(1, 80_000), min_size=1, max_size=8),
    cumul=centimes(0, 80_000),
    solde=soldes,
    m=mois,
)
def test_decoupage_avec_plafond_et_solde_mis_a_jour(data, morceaux, cumul, solde, m):
    ordre = data.draw(st.permutations(morceaux))
    totaux = [D("0.00")] * 3
    t0, b = cumul, solde
    for montant in ordre:
        r = repartir(
            montant,
            situation(cumul_mois=t0, mois=m, solde_parties_civiles=b, plafond_parties_civiles=True),
        )
        totaux = [a + x for a, x in zip(totaux, parts(r), strict=True)]
        t0 += montant
        b += r.parties_civiles

    unique = repartir(
        sum(ordre),
        situation(
            cumul_mois=cumul, mois=m, solde_parties_civiles=solde, plafond_parties_civiles=True
        ),
    )
    assert tuple(totaux) == parts(unique)


@pytest.mark.parametrize("m", [6, 12])
def test_pas_de_derive_d_arrondi_sur_des_recus_d_un_centime(m):
    """70 000 receipts of 0.01 (0 to 700.00) give the same totals as one of 700.00."""
    totaux = [D("0.00")] * 3
    t0 = D("0.00")
    un_centime = D("0.01")
    for _ in range(70_000):
        r = repartir(un_centime, situation(cumul_mois=t0, mois=m))
        totaux = [a + x for a, x in zip(totaux, parts(r), strict=True)]
        t0 += un_centime

    assert tuple(totaux) == parts(repartir(D("700.00"), situation(mois=m)))


@settings(deadline=None)
@given(nombre=st.integers(1, 3_000), cumul=cumuls, m=mois)
def test_pas_de_derive_sur_une_suite_de_centimes(nombre, cumul, m):
    totaux = [D("0.00")] * 3
    t0 = cumul
    for _ in range(nombre):
        r = repartir(D("0.01"), situation(cumul_mois=t0, mois=m))
        totaux = [a + x for a, x in zip(totaux, parts(r), strict=True)]
        t0 += D("0.01")

    assert tuple(totaux) == parts(
        repartir(D(nombre).scaleb(-2), situation(cumul_mois=cumul, mois=m))
    )


@given(montant=montants, cumul=cumuls, m=st.integers(1, 11))
def test_decembre_et_autres_mois(montant, cumul, m):
    ordinaire = repartir(montant, situation(cumul_mois=cumul, mois=m))
    decembre = repartir(montant, situation(cumul_mois=cumul, mois=12))

    # The December allowance only removes levies, never adds any.
    assert decembre.parties_civiles <= ordinaire.parties_civiles
    assert decembre.pecule_liberation <= ordinaire.pecule_liberation
    assert decembre.part_disponible >= ordinaire.part_disponible
    # Up to 400 in the month, December levies nothing.
    if cumul + montant <= 400:
        assert parts(decembre) == (D("0.00"), D("0.00"), montant)
    # On the month's total, December is the ordinary levy less the 200-400 band
    # (40.00 for part 1, 20.00 for the pécule).
    p1, pl = prelevements_cumules(cumul + montant, m)
    p1_dec, pl_dec = prelevements_cumules(cumul + montant, 12)
    assert p1_dec == max(D("0.00"), p1 - 40)
    assert pl_dec == max(D("0.00"), pl - 20)


@given(montant=montants, cumul=cumuls, m=mois, solde=soldes, plafond=st.booleans())
def test_sans_pecule_donne_zero_pecule(montant, cumul, m, solde, plafond):
    champs = {
        "cumul_mois": cumul,
        "mois": m,
        "solde_parties_civiles": solde,
        "plafond_parties_civiles": plafond,
    }
    avec = repartir(montant, situation(sans_pecule=False, **champs))
    sans = repartir(montant, situation(sans_pecule=True, **champs))

    assert sans.pecule_liberation == D("0.00")
    assert sans.parties_civiles == avec.parties_civiles
    assert sans.part_disponible == avec.part_disponible + avec.pecule_liberation
    assert all(x >= 0 for x in parts(sans))


@given(montant=montants, cumul=cumuls, m=mois, solde=soldes)
def test_plafond(montant, cumul, m, solde):
    sans_plafond = repartir(
        montant, situation(cumul_mois=cumul, mois=m, solde_parties_civiles=solde)
    )
    avec_plafond = repartir(
        montant,
        situation(
            cumul_mois=cumul, mois=m, solde_parties_civiles=solde, plafond_parties_civiles=True
        ),
    )

    reste = max(D("0.00"), PLAFOND_PARTIES_CIVILES - solde)
    assert avec_plafond.parties_civiles == min(sans_plafond.parties_civiles, reste)
    assert avec_plafond.pecule_liberation == sans_plafond.pecule_liberation
    assert avec_plafond.part_disponible == (
        sans_plafond.part_disponible + sans_plafond.parties_civiles - avec_plafond.parties_civiles
    )
