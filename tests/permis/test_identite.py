"""Comparing identities without case, accents or punctuation (pure functions)."""

import pytest

from permis.identite import (
    cle,
    nom_de_detenu_concorde,
    noms_concordent,
    normaliser,
    prenoms_concordent,
)


@pytest.mark.parametrize(
    ("texte", "attendu"),
    [
        ("LEFÈVRE", "lefevre"),
        ("  Le   Fèvre-D'Arc ", "le fevre d arc"),
        ("Œdipe Lætitia", "oedipe laetitia"),
        ("Héloïse Éléonore", "heloise eleonore"),
        ("Çağlar", "caglar"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_normaliser(texte, attendu):
    assert normaliser(texte) == attendu


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("LEFÈVRE", "Lefevre"),
        ("Le Gall", "LE-GALL"),
        ("Le Gall", "Legall"),
        ("N'Diaye", "NDIAYE"),
        ("Mc Donald", "mcdonald"),
    ],
)
def test_noms_concordent(a, b):
    assert noms_concordent(a, b)


@pytest.mark.parametrize(("a", "b"), [("Martin", "Martine"), ("", ""), ("Dupont", "Dupond")])
def test_noms_differents(a, b):
    assert not noms_concordent(a, b)


@pytest.mark.parametrize(
    "prenoms_permis",
    [
        "Angela Claire Louise",
        "ANGELA CLAIRE LOUISE",
        "Angela",
        "Angela Claire",
        "Angela, Claire, Louise",
        "angéla claire-louise",  # whole strings equal without separators
    ],
)
def test_prenoms_acceptes(prenoms_permis):
    assert prenoms_concordent(prenoms_permis, "Angela Claire Louise")


@pytest.mark.parametrize(
    "prenoms_permis",
    ["Claire", "Angela Louise", "Claire Angela Louise", "Angela Claire Louise Marie", "Ang", ""],
)
def test_prenoms_refuses(prenoms_permis):
    assert not prenoms_concordent(prenoms_permis, "Angela Claire Louise")


def test_prenom_compose():
    assert prenoms_concordent("Jean Pierre", "Jean-Pierre")
    assert prenoms_concordent("Jean-Pierre", "Jean-Pierre Marie")
    # « Jean » is not « Jean-Pierre »: a compound given name is one name.
    assert not prenoms_concordent("Jean", "Jean-Pierre Marie")


def test_nom_de_detenu():
    assert nom_de_detenu_concorde("martin", "MARTIN", "Paul Émile")
    assert nom_de_detenu_concorde("Martin Paul Emile", "MARTIN", "Paul Émile")
    assert nom_de_detenu_concorde("Paul-Émile MARTIN", "MARTIN", "Paul Émile")
    assert not nom_de_detenu_concorde("Martin Paul", "MARTIN", "Paul Émile")
    assert not nom_de_detenu_concorde("", "MARTIN", "Paul Émile")
    assert cle("Paul-Émile") == "paulemile"
