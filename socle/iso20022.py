"""ISO 20022 files read and written by the portal (camt.053 statements and pain.002
status reports in, pain.001 credit transfers out): one hardened XML parser and the
official XSDs shipped in `schemas/iso20022/` (see its README for their origin).

Reading: no DTD loaded, no entity expanded, no network, no huge tree, a `DOCTYPE`
refused, a size limit, the root element and namespace checked against the versions
the caller accepts, then validation against that version's XSD before anything is read.
A refusal raises the caller's error class with a French message (the first errors of the
validator with their line numbers)."""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from lxml import etree

PREFIXE_ESPACE = "urn:iso:std:iso:20022:tech:xsd:"


def repertoire_schemas() -> Path:
    return Path(settings.BASE_DIR) / "schemas" / "iso20022"


def analyseur() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


@functools.cache
def schema(version: str) -> etree.XMLSchema:
    """The official XSD of `version` (e.g. "camt.053.001.02"), compiled once per process."""
    return etree.XMLSchema(etree.parse(str(repertoire_schemas() / f"{version}.xsd"), analyseur()))


def erreurs_de_schema(document, version: str, nombre: int = 3) -> list[str]:
    """The first validation errors of `document` (an element or a tree), or []."""
    xsd = schema(version)
    if xsd.validate(document):
        return []
    return [f"ligne {e.line} : {e.message}" for e in list(xsd.error_log)[:nombre]]


def lire(
    contenu: bytes,
    *,
    versions: tuple[str, ...],
    nature: str,
    erreur: type[Exception],
    taille_maximale: int,
) -> tuple[etree._Element, str]:
    """Parse and validate `contenu`, a document of one of `versions` (e.g.
    ("camt.053.001.02", "camt.053.001.08")); `nature` names it in French messages
    (« relevé camt.053 »). Returns the root element and its version."""
    if not contenu or not contenu.strip():
        raise erreur("Le fichier est vide.")
    if len(contenu) > taille_maximale:
        raise erreur(
            f"Le fichier dépasse {taille_maximale // (1024 * 1024)} Mo : ce n'est pas un "
            f"{nature} attendu ici."
        )
    try:
        arbre = etree.ElementTree(etree.fromstring(contenu, analyseur()))
    except etree.XMLSyntaxError as exc:
        raise erreur(f"Le fichier n'est pas un document XML lisible ({exc.msg}).") from exc
    if arbre.docinfo.doctype or arbre.docinfo.internalDTD is not None:
        raise erreur("Le fichier contient une déclaration DOCTYPE : refusé par sécurité.")
    racine = arbre.getroot()
    qname = etree.QName(racine)
    espaces = {PREFIXE_ESPACE + version: version for version in versions}
    version = espaces.get(qname.namespace or "")
    if qname.localname != "Document" or version is None:
        raise erreur(
            f"Le fichier n'est pas un {nature} pris en charge (élément racine "
            f"« {qname.localname} », espace de noms « {qname.namespace or 'aucun'} » ; "
            f"formats acceptés : {', '.join(versions)})."
        )
    erreurs = erreurs_de_schema(arbre, version)
    if erreurs:
        suite = " ; …" if len(schema(version).error_log) > len(erreurs) else ""
        raise erreur(
            f"Le fichier n'est pas un {nature} conforme au schéma ISO 20022 {version} "
            f"({' ; '.join(erreurs)}{suite})."
        )
    return racine, version
