"""PostgreSQL guards of the ledger: rows are never updated or deleted, and every entry's
lines add up to zero at commit. (SQLite, the zero-install local default, relies on the
services' own checks.)"""

from django.db import migrations

FONCTIONS = """
CREATE OR REPLACE FUNCTION regie_ajout_seul() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'regie: % interdit sur % (registre en ajout seul ; corriger par une contre-passation)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION regie_ecriture_equilibree() RETURNS trigger AS $$
DECLARE
    v_ecriture bigint;
    total numeric;
    nombre integer;
BEGIN
    IF TG_TABLE_NAME = 'regie_ecriture' THEN
        v_ecriture := NEW.id;
    ELSE
        v_ecriture := NEW.ecriture_id;
    END IF;
    SELECT COALESCE(SUM(l.montant), 0), COUNT(*) INTO total, nombre
        FROM regie_ligneecriture l WHERE l.ecriture_id = v_ecriture;
    IF nombre < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'regie: écriture % déséquilibrée (% lignes, somme %)', v_ecriture, nombre, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

TABLES_EN_AJOUT_SEUL = ["regie_ecriture", "regie_ligneecriture", "regie_evenementd422"]

CREATION = FONCTIONS + "".join(
    f"""
CREATE TRIGGER {table}_ajout_seul BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION regie_ajout_seul();
"""
    for table in TABLES_EN_AJOUT_SEUL
) + """
CREATE CONSTRAINT TRIGGER regie_ligneecriture_equilibre AFTER INSERT ON regie_ligneecriture
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regie_ecriture_equilibree();
CREATE CONSTRAINT TRIGGER regie_ecriture_equilibre AFTER INSERT ON regie_ecriture
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regie_ecriture_equilibree();
"""

SUPPRESSION = "".join(
    f"DROP TRIGGER IF EXISTS {table}_ajout_seul ON {table};\n" for table in TABLES_EN_AJOUT_SEUL
) + """
DROP TRIGGER IF EXISTS regie_ligneecriture_equilibre ON regie_ligneecriture;
DROP TRIGGER IF EXISTS regie_ecriture_equilibre ON regie_ecriture;
DROP FUNCTION IF EXISTS regie_ecriture_equilibree();
DROP FUNCTION IF EXISTS regie_ajout_seul();
"""


def creer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATION, params=None)


def supprimer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SUPPRESSION, params=None)


class Migration(migrations.Migration):
    dependencies = [("regie", "0001_initial")]
    operations = [migrations.RunPython(creer, supprimer)]
