"""Where datasets live: the project's in the package, a user's under ``RETAIL_HOME``.

Project datasets are folders of ``warehouse/datasets/``. A user's datasets are folders of
``settings.user_datasets_dir`` (``RETAIL_DATASETS_DIR``, default ``RETAIL_HOME/datasets``), laid out
the same way plus their own validation suites::

    <name>/dataset.yaml
    <name>/semantic.yaml
    <name>/suites/<validation_suite>.yaml     one per table (the fact's and each dimension table's)

Both kinds are found by name; a user folder may not reuse a project name (that would change what
every question about the project dataset means without a word). Every reader of dataset folders
goes through this module, so nothing else knows where they are.
"""

from __future__ import annotations

from pathlib import Path

from retail_insights.errors import ConfigError, UsageError, did_you_mean
from retail_insights.settings import get_settings

PROJECT_DATASETS_DIR = Path(__file__).parent / "datasets"
SPEC_FILE = "dataset.yaml"
SUITES_FOLDER = "suites"


def user_datasets_dir() -> Path:
    """The folder holding the user's dataset folders (it may not exist yet)."""
    return get_settings().user_datasets_dir


def _folders_in(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / SPEC_FILE).exists()}


def dataset_folders() -> dict[str, Path]:
    """Every dataset's folder by name, project datasets first; a user folder shadowing one fails."""
    project = _folders_in(PROJECT_DATASETS_DIR)
    user = _folders_in(user_datasets_dir())
    for name in sorted(project.keys() & user.keys()):
        raise _shadowed(name, project[name], user[name])
    return {**project, **user}


def dataset_folder(name: str) -> Path:
    """The folder of dataset ``name`` (two file checks: questions call this often); an unknown name
    says which ones exist."""
    project, user = PROJECT_DATASETS_DIR / name, user_datasets_dir() / name
    found = [f for f in (project, user) if "/" not in name and not name.startswith(".") and (f / SPEC_FILE).exists()]
    if len(found) == 2:
        raise _shadowed(name, project, user)
    if not found:
        raise UsageError(f"unknown dataset {name!r}.", hint=did_you_mean(name, dataset_folders()))
    return found[0]


def _shadowed(name: str, project: Path, user: Path) -> ConfigError:
    return ConfigError(f"dataset {name!r} is defined twice: by the project in {project} and by you in {user}.",
                       hint="Fix: rename your folder (and the `name:` in its dataset.yaml).")


def new_user_folder(name: str) -> Path:
    """Where ``dataset init`` writes dataset ``name``; a project dataset's name is refused."""
    if (PROJECT_DATASETS_DIR / name / SPEC_FILE).exists():
        raise UsageError(f"dataset {name!r} is a project dataset ({PROJECT_DATASETS_DIR / name}).",
                         hint="Fix: choose another name for yours.")
    return user_datasets_dir() / name


def user_suite_files() -> dict[str, Path]:
    """Validation suites that user dataset folders carry (``<folder>/suites/<suite>.yaml``), by name."""
    found: dict[str, Path] = {}
    for folder in _folders_in(user_datasets_dir()).values():
        for path in sorted((folder / SUITES_FOLDER).glob("*.yaml")):
            if path.stem in found:
                raise ConfigError(f"validation suite {path.stem!r} is defined twice: {found[path.stem]} and {path}.",
                                  hint="Fix: rename one (and the validation_suite that names it).")
            found[path.stem] = path
    return found
