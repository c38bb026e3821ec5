"""What scripts/package-check checks in the built files: ``python scripts/check_dist.py dist``.

Reads the one wheel and one sdist in the folder and exits 1 listing every problem: the wheel's
METADATA against what pyproject.toml promises (a package index shows these fields, pip resolves
on them), its entry points, its files against the source tree, and the sdist's extra files.
Standard library only (``email`` parses METADATA, which is a mail-header format).
"""

from __future__ import annotations

import ast
import email
import sys
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "airflow_webhook_trigger"

CLASSIFIERS = {
    "Framework :: Apache Airflow",
    "Framework :: Apache Airflow :: Provider",
    "Programming Language :: Python :: 3.10",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
}
ENTRY_POINTS = {
    "airflow.plugins": "webhook_trigger = airflow_webhook_trigger.plugin:WebhookTriggerPlugin",
    "apache_airflow_provider": "provider_info = airflow_webhook_trigger.cli.airflow_group:get_provider_info",
    "console_scripts": "airflow-webhooks = airflow_webhook_trigger.cli:main",
}
URLS = {"Homepage", "Documentation", "Source", "Issues", "Changelog"}
SDIST_FILES = {"LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml"}


def _declared_airflow_range() -> str:
    """pyproject.toml's apache-airflow requirement as wheel metadata writes it (specifiers sorted)."""
    import tomllib  # 3.11+, as the venvs here; only this check reads pyproject.toml

    from packaging.requirements import Requirement

    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    requirement = Requirement(next(d for d in declared if d.startswith("apache-airflow")))
    return f"{requirement.name}{requirement.specifier}"


def source_version() -> str:
    """``__version__`` from the package's ``__init__.py``, read without importing it (no Airflow needed)."""
    tree = ast.parse((REPO / PACKAGE / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"no __version__ in {PACKAGE}/__init__.py")


def expected_files() -> set[str]:
    """Every module and UI asset of the source tree, as paths inside the wheel."""
    found = set()
    for path in (REPO / PACKAGE).rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".html", ".css", ".js", ".svg"}:
            found.add(path.relative_to(REPO).as_posix())
    return found


def check_wheel(wheel: Path, version: str, problems: list[str]) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"{PACKAGE}-{version}.dist-info"
        if f"{info}/METADATA" not in names:
            problems.append(f"{wheel.name}: no {info}/METADATA (is the version {version}?)")
            return
        meta = email.message_from_bytes(archive.read(f"{info}/METADATA"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        license_text = archive.read(f"{info}/licenses/LICENSE").decode() if f"{info}/licenses/LICENSE" in names else ""

    def expect(condition: bool, text: str) -> None:
        if not condition:
            problems.append(f"{wheel.name}: {text}")

    expect(meta["Name"] == "airflow-webhook-trigger", f"Name is {meta['Name']!r}")
    expect(meta["Version"] == version, f"Version {meta['Version']!r} is not __version__ {version!r}")
    expect(float(meta["Metadata-Version"]) >= 2.4, f"Metadata-Version {meta['Metadata-Version']} (2.4 carries License-Expression)")
    expect(meta["License-Expression"] == "Apache-2.0", f"License-Expression is {meta['License-Expression']!r}")
    expect("LICENSE" in (meta.get_all("License-File") or []), "no License-File: LICENSE")
    expect("Apache License" in license_text and "Version 2.0, January 2004" in license_text,
           "dist-info/licenses/LICENSE is not the Apache-2.0 text")
    expect(meta["Requires-Python"] == ">=3.10", f"Requires-Python is {meta['Requires-Python']!r}")
    missing = CLASSIFIERS - set(meta.get_all("Classifier") or [])
    expect(not missing, f"classifiers missing: {sorted(missing)}")
    urls = {entry.split(",", 1)[0].strip() for entry in meta.get_all("Project-URL") or []}
    expect(URLS <= urls, f"Project-URL missing: {sorted(URLS - urls)}")
    requires = meta.get_all("Requires-Dist") or []
    bounded = [r for r in requires if r.startswith("apache-airflow") and "<" in r and ">=" in r]
    expect(bool(bounded) and bounded[0] == _declared_airflow_range(),
           f"the wheel's apache-airflow range {bounded} is not pyproject.toml's {_declared_airflow_range()!r}")
    expect(meta["Description-Content-Type"] == "text/markdown", "the README is not rendered as Markdown")
    for group, line in ENTRY_POINTS.items():
        expect(f"[{group}]" in entry_points and line in entry_points, f"entry point missing: [{group}] {line}")
    missing_files = expected_files() - names
    expect(not missing_files, f"files of the source tree missing from the wheel: {sorted(missing_files)}")
    stray = sorted(n for n in names if not n.startswith((f"{PACKAGE}/", f"{info}/")))
    expect(not stray, f"files outside the package in the wheel: {stray[:10]}")


def check_sdist(sdist: Path, problems: list[str]) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    missing = SDIST_FILES - names
    if missing:
        problems.append(f"{sdist.name}: missing {sorted(missing)}")
    if not any(name.startswith(f"{PACKAGE}/ui/") for name in names):
        problems.append(f"{sdist.name}: no UI assets")


def main(folder: str) -> int:
    dist = Path(folder)
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}")
        return 1
    version = source_version()
    problems: list[str] = []
    check_wheel(wheels[0], version, problems)
    check_sdist(sdists[0], problems)
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        return 1
    print(f"OK {wheels[0].name} and {sdists[0].name}: version {version}, Apache-2.0 (License-Expression and "
          f"LICENSE), {len(CLASSIFIERS)} required classifiers, project URLs, entry points, every module and UI asset")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist"))
