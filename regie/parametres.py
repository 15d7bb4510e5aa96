"""National amounts that the decrees leave to an arrêté or that a circular sets, with their
source. Each one can be overridden in the Django settings (same name) when the text
changes, without a release; the default is the value of the source named beside it.

The amounts written in the code pénitentiaire itself (the 200/400 € allowance, the bands,
the 1 000 € ceiling, the 100/60 € thresholds of D. 333-1/D. 333-2, the 500 € of
D. 332-22) stay in the code next to their article: they change only with the decree.
"""

from decimal import Decimal

from django.conf import settings

#: D. 332-14: the pécule de libération is placed on a livret A « lorsqu'[il dépasse] une
#: somme fixée par arrêté du garde des sceaux ». 229 € by the arrêté du 23 janvier 2023
#: (JO du 29 janvier 2023), as reported by affaires-publiques.org (TO 23447); the arrêté
#: itself was not read (legal memo, section 3).
SEUIL_PECULE_LIVRET_A_DEFAUT = Decimal("229.00")

#: Monthly cash aid (« aide en numéraire », D. 333-2): 30 € a month since the circular of
#: 7 March 2022 (JUSK2204097C, BOMJ 25 March 2022), as reported by the OIP and
#: directions.fr; the circular itself was not read (legal memo, section 4).
MONTANT_AIDE_NUMERAIRE_DEFAUT = Decimal("30.00")

#: Emergency aid to a newcomer without sufficient resources: 20 €, same circular and
#: same reported sources (legal memo, section 4).
MONTANT_AIDE_URGENCE_ARRIVANT_DEFAUT = Decimal("20.00")


def _reglage(nom: str, defaut: Decimal) -> Decimal:
    return Decimal(str(getattr(settings, nom, defaut))).quantize(Decimal("0.01"))


def seuil_pecule_livret_a() -> Decimal:
    return _reglage("REGIE_SEUIL_PECULE_LIVRET_A", SEUIL_PECULE_LIVRET_A_DEFAUT)


def montant_aide_numeraire() -> Decimal:
    return _reglage("REGIE_MONTANT_AIDE_NUMERAIRE", MONTANT_AIDE_NUMERAIRE_DEFAUT)


def montant_aide_urgence_arrivant() -> Decimal:
    return _reglage("REGIE_MONTANT_AIDE_URGENCE_ARRIVANT", MONTANT_AIDE_URGENCE_ARRIVANT_DEFAUT)
