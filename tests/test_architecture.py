"""The import contracts of pyproject.toml (docs/architecture.md): apps depend one way,
nobody imports the settings or the root URLs, the sandbox bank and the portal stay apart,
and no module circle exists inside a package. A new circle fails the suite."""

from pathlib import Path

from importlinter.cli import lint_imports

RACINE = Path(__file__).resolve().parents[1]


def test_les_contrats_d_import_sont_respectes(monkeypatch):
    monkeypatch.chdir(RACINE)
    assert lint_imports(config_filename="pyproject.toml", no_cache=True) == 0
