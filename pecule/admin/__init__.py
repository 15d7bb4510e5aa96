"""The back-office of the `pecule` app, one module per concern: transfers and the
« à traiter » queue (`virements`), the régie's bank statements (`rapprochement`), the
relatives' PDF statements (`releves`). Importing the package registers them all."""

from . import rapprochement, releves, virements

__all__ = ["rapprochement", "releves", "virements"]
