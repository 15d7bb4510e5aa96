"""How amounts read in French, the same in the admin, the services' messages, the PDFs
and the CSV exports."""

from decimal import Decimal

ESPACE_FINE = "\u202f"


def euros(montant: Decimal | None) -> str:
    """Decimal("12345.5") -> "12 345,50 €" (narrow no-break space, decimal comma)."""
    entier, _, decimales = f"{(montant or Decimal(0)):.2f}".partition(".")
    signe = "-" if entier.startswith("-") else ""
    chiffres = entier.lstrip("-")
    groupes = []
    while chiffres:
        groupes.insert(0, chiffres[-3:])
        chiffres = chiffres[:-3]
    return f"{signe}{ESPACE_FINE.join(groupes) or '0'},{decimales} €"


def montant_csv(montant: Decimal) -> str:
    """Excel-friendly French decimal for CSV exports: no grouping, decimal comma."""
    return f"{montant:.2f}".replace(".", ",")


# Initial letters before which « de » elides (vowels, and h, mute in French first names).
_ELISION = set("aeiouyhàâäéèêëîïôöùûüÿœæ")


def de(nom: str) -> str:
    """The preposition « de » before a name, elided where French elides it:
    "Antoine LEFÈVRE" -> "d'Antoine LEFÈVRE", "Paul DURAND" -> "de Paul DURAND"."""
    nom = (nom or "").strip()
    return f"d'{nom}" if nom[:1].lower() in _ELISION else f"de {nom}"


def pluriel(nombre: int, singulier: str, pluriel: str) -> str:
    """The noun for `nombre` things: singular for 0 and 1, as French says (« 0 virement »)."""
    return singulier if nombre <= 1 else pluriel
