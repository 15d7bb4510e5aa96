"""Transactions without needless round trips.

- `atomique`: `transaction.atomic` that opens no savepoint when the caller already holds a
  transaction. For services that raise their refusals before they write anything: a
  refusal leaves the caller's transaction as it was (nothing to undo), so the caller may
  catch it and go on; `ecritures_engagees` marks the point after which an error dooms the
  caller's whole transaction instead (there is no savepoint to roll back to).
- `inserer_sauf_doublon`: one `INSERT … ON CONFLICT DO NOTHING RETURNING id`, the unique
  constraint doing the duplicate check in the same statement (no SELECT before, no
  savepoint around an IntegrityError).
- `inserer_et_mettre_a_jour`: rows inserted and one row updated in one statement on
  PostgreSQL (a data-modifying `WITH`), two elsewhere.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager

from django.db import connections, router, transaction
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql.subqueries import InsertQuery, UpdateQuery


def atomique(fonction):
    """`transaction.atomic` for a service whose refusals come before its first write:
    inside a caller's transaction it runs without a savepoint."""

    @functools.wraps(fonction)
    def enveloppe(*args, **kwargs):
        if transaction.get_connection().in_atomic_block:
            return fonction(*args, **kwargs)
        with transaction.atomic():
            return fonction(*args, **kwargs)

    return enveloppe


@contextmanager
def ecritures_engagees():
    """Past this point a service has written: any error marks the caller's transaction
    for rollback (Django then refuses any further query in it), so that a caller that
    catches the error can never commit half of the movement."""
    try:
        yield
    except BaseException:
        if transaction.get_connection().in_atomic_block:
            transaction.set_rollback(True)
        raise


def _champs_inseres(meta) -> list:
    """The columns an INSERT writes, as `Model.save` does: neither the automatic primary
    key nor generated fields."""
    return [
        champ
        for champ in meta.local_concrete_fields
        if not champ.generated and champ is not meta.auto_field
    ]


def inserer_sauf_doublon(objet: Model) -> bool:
    """Insert `objet` unless a unique constraint already holds a row with its values:
    True (and `objet.pk` set) when inserted, False when a row was already there."""
    modele = type(objet)
    meta = modele._meta
    connexion = connections[router.db_for_write(modele)]
    requete = InsertQuery(modele, on_conflict=OnConflict.IGNORE)
    requete.insert_values(_champs_inseres(meta), [objet])
    compilateur = requete.get_compiler(connection=connexion)
    compilateur.returning_fields = [meta.pk]
    ((sql, parametres),) = compilateur.as_sql()
    with connexion.cursor() as curseur:
        curseur.execute(sql, parametres)
        ligne = curseur.fetchone()
    if ligne is None:
        return False
    objet.pk = ligne[0]
    objet._state.adding = False
    objet._state.db = connexion.alias
    return True


def inserer_et_mettre_a_jour(objets: list[Model], instance: Model, champs: list[str]) -> None:
    """Insert `objets` (all of one model, primary keys not read back) and save `champs` of
    `instance`: on PostgreSQL in one statement, `WITH nouveaux AS (INSERT …) UPDATE …`
    (both see the same snapshot: the UPDATE must not depend on the rows inserted)."""
    modele = type(objets[0])
    connexion = connections[router.db_for_write(modele)]
    if connexion.vendor != "postgresql":
        modele.objects.bulk_create(objets)
        instance.save(update_fields=champs)
        return
    insertion = InsertQuery(modele)
    insertion.insert_values(_champs_inseres(modele._meta), objets)
    ((sql_insertion, parametres_insertion),) = insertion.get_compiler(connection=connexion).as_sql()
    mise_a_jour = UpdateQuery(type(instance))
    mise_a_jour.add_update_values({champ: getattr(instance, champ) for champ in champs})
    mise_a_jour.add_filter("pk", instance.pk)
    sql_mise_a_jour, parametres_mise_a_jour = mise_a_jour.get_compiler(
        connection=connexion
    ).as_sql()
    with connexion.cursor() as curseur:
        curseur.execute(
            f"WITH nouveaux AS ({sql_insertion}) {sql_mise_a_jour}",
            (*parametres_insertion, *parametres_mise_a_jour),
        )
