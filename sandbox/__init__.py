"""The sandbox bank: a payment initiation provider stand-in for development, demos and tests.

It runs as its own process (`python -m sandbox`), keeps its own state in SQLite, serves its
own bank pages, answers the provider API the portal's adapter
(`pecule.fournisseurs.sandbox.FournisseurSandbox`) calls, sends signed notifications with
retries, and produces the régie's camt.053 statement. It is a development tool, never part of
the production portal. See docs/sandbox-banque.md.
"""
