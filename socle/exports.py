"""CSV exports for spreadsheets (Excel, LibreOffice): one way to write them, so that no
text cell can ever become a formula.

Every cell is typed by its Python value: a `Decimal` is an amount (French decimal comma,
`montant_csv`), an `int` a number, a date or a datetime a French date; **everything else
is text and is neutralised**: a text that a spreadsheet would read as a formula (starting
with `=`, `+`, `-`, `@`, a tab, a carriage return or a line feed, also after leading
spaces, and their full-width forms) gets a leading apostrophe (OWASP, "CSV injection").
So an establishment's name, a reason, a label or a file name is neutralised whoever typed
it, and a negative amount stays a number.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from .formats import montant_csv

DECLENCHEURS = frozenset("=+-@\t\r\n＝＋－＠")


def texte_csv(valeur) -> str:
    """A text cell that no spreadsheet reads as a formula."""
    texte = "" if valeur is None else str(valeur)
    premier = texte.lstrip(" ")[:1]
    if texte[:1] in DECLENCHEURS or premier in DECLENCHEURS:
        return "'" + texte
    return texte


def cellule_csv(valeur) -> str:
    """One cell, by the type of its value (see the module)."""
    if isinstance(valeur, bool):
        return "oui" if valeur else "non"
    if isinstance(valeur, Decimal):
        return montant_csv(valeur)
    if isinstance(valeur, int):
        return str(valeur)
    if isinstance(valeur, datetime.datetime):
        return f"{timezone.localtime(valeur):%d/%m/%Y %H:%M}"
    if isinstance(valeur, datetime.date):
        return f"{valeur:%d/%m/%Y}"
    return texte_csv(valeur)


def ecrire_csv(flux, entetes: Iterable, lignes: Iterable[Iterable]) -> None:
    """Write the header line and the rows to `flux`: semicolons, CRLF, every cell through
    `cellule_csv`."""
    ecrivain = csv.writer(flux, delimiter=";", lineterminator="\r\n")
    ecrivain.writerow([texte_csv(entete) for entete in entetes])
    for ligne in lignes:
        ecrivain.writerow([cellule_csv(cellule) for cellule in ligne])


def reponse_csv(nom_fichier: str, entetes: Iterable, lignes: Iterable[Iterable]) -> HttpResponse:
    """A CSV download for Excel: UTF-8 with BOM, semicolons, decimal comma. `nom_fichier`
    without extension, already safe (e.g. slugified)."""
    reponse = HttpResponse(content_type="text/csv; charset=utf-8")
    reponse["Content-Disposition"] = f'attachment; filename="{nom_fichier}.csv"'
    reponse.write("\ufeff")
    ecrire_csv(reponse, entetes, lignes)
    return reponse
