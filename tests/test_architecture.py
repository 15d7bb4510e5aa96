"""The import contracts of pyproject.toml (docs/architecture.md): apps depend one way,
nobody imports the settings or the root URLs, the sandbox bank and the portal stay apart,
and no module circle exists inside a package. A new circle fails the suite."""

from pathlib import Path

from importlinter.cli import lint_imports

RACINE = Path(__file__).resolve().parents[1]


def test_les_contrats_d_import_sont_respectes(monkeypatch):
    monkeypatch.chdir(RACINE)
    assert lint_imports(config_filename="pyproject.toml", no_cache=True) == 0


APPS = ("comptes", "pecule", "permis", "portail", "regie", "socle")


def test_toute_exportation_csv_passe_par_socle_exports():
    """Issue 11 item 11: every CSV export neutralises its text cells because it writes them
    through `socle.exports`; a module that writes CSV itself would escape it."""
    ecrivains = [
        str(chemin.relative_to(RACINE))
        for app in APPS
        for chemin in (RACINE / app).rglob("*.py")
        if "migrations" not in chemin.parts
        and chemin != RACINE / "socle" / "exports.py"
        and ("csv.writer(" in (texte := chemin.read_text()) or "csv.DictWriter(" in texte)
    ]
    assert ecrivains == []
