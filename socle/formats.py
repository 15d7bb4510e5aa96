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
