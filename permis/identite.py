"""Comparing identities as people write them: no case, no accents, no punctuation.

Pure functions, no database. The rules are documented in docs/permis.md.
"""

import re
import unicodedata

# Letters NFKD does not decompose into a base letter and a combining mark.
_LETTRES_SPECIALES = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "ı": "i",
    }
)
_SEPARATEURS_PRENOMS = re.compile(r"[\s,;]+")


def normaliser(texte: str) -> str:
    """Lower case, without accents; every run of non-alphanumeric characters (spaces,
    hyphens, apostrophes, dots) becomes one space. « Le Fèvre-D'Arc » -> « le fevre d arc »."""
    decompose = unicodedata.normalize("NFKD", (texte or "").translate(_LETTRES_SPECIALES))
    sans_accents = "".join(c for c in decompose if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in sans_accents).split())


def cle(texte: str) -> str:
    """`normaliser` without any separator: « Le Gall », « LE-GALL » and « Legall » agree."""
    return normaliser(texte).replace(" ", "")


def noms_concordent(nom_a: str, nom_b: str) -> bool:
    a = cle(nom_a)
    return bool(a) and a == cle(nom_b)


def _liste_prenoms(prenoms: str) -> list[str]:
    """Given names one by one: separated by spaces or commas; a hyphen joins a compound
    given name (« Jean-Pierre » is one given name)."""
    return [cle(p) for p in _SEPARATEURS_PRENOMS.split((prenoms or "").strip()) if cle(p)]


def prenoms_concordent(prenoms_permis: str, prenoms_franceconnect: str) -> bool:
    """The permit's given names are those FranceConnect gives, or their first ones in the
    same order (« Angela », « Angela Claire » and « Angela Claire Louise » all match
    « Angela Claire Louise »; « Claire » or « Angela Louise » do not). The whole strings
    are also compared without separators, so « Jean Pierre » matches « Jean-Pierre »."""
    permis = cle(prenoms_permis)
    if not permis:
        return False
    if permis == cle(prenoms_franceconnect):
        return True
    liste_permis = _liste_prenoms(prenoms_permis)
    liste_fc = _liste_prenoms(prenoms_franceconnect)
    return 0 < len(liste_permis) <= len(liste_fc) and liste_fc[: len(liste_permis)] == liste_permis


def nom_de_detenu_concorde(saisi: str, nom: str, prenoms: str) -> bool:
    """The detainee's name as the relative typed it: the family name, or the family name
    and all the given names in either order."""
    saisi_cle = cle(saisi)
    if not saisi_cle:
        return False
    return saisi_cle in {cle(nom), cle(f"{nom} {prenoms}"), cle(f"{prenoms} {nom}")}


def titulaire_concorde(permis, proche) -> bool:
    """The permit's holder is this FranceConnect identity: birth name, given names (see
    `prenoms_concordent`) and birth date, all required."""
    return (
        proche.fc_birthdate is not None
        and permis.titulaire_date_naissance == proche.fc_birthdate
        and noms_concordent(permis.titulaire_nom, proche.fc_family_name)
        and prenoms_concordent(permis.titulaire_prenoms, proche.fc_given_name)
    )
