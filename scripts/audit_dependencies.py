"""Audit the pinned Python dependencies for known vulnerabilities (pip-audit), minus a reviewed allowlist.

pip-audit resolves requirements.txt and layers/shop/python/requirements.txt (what the functions ship) with their
transitive dependencies and asks the package index's vulnerability data about each pinned version. It runs
with --strict: a dependency it could not look up fails the audit, so "no known vulnerabilities" always means
every package was checked.

audit-allowlist.toml lists the vulnerabilities we accept for now, each with the package, why it does not
affect us and a review date. Past its review date an entry fails the audit until someone looks again: an
accepted risk is re-decided, never forgotten.

    python scripts/audit_dependencies.py     # exit 0: nothing found beyond the allowlist; 1 otherwise
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWLIST = ROOT / "audit-allowlist.toml"
REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "layers" / "shop" / "python" / "requirements.txt")
REQUIRED_FIELDS = ("id", "package", "reason", "review_by")
UNREACHABLE = "could not be audited"  # pip-audit's words for a package it found no vulnerability data for


class AllowlistError(Exception):
    """The allowlist is malformed or holds an entry past its review date; the message says which."""


@dataclass(frozen=True)
class Accepted:
    vulnerability_id: str  # as pip-audit reports it: PYSEC-..., GHSA-..., CVE-...
    package: str
    reason: str
    review_by: dt.date


def load_allowlist(path: Path) -> list[Accepted]:
    entries = tomllib.loads(path.read_text()).get("ignore", [])
    accepted = []
    for n, entry in enumerate(entries, start=1):
        missing = [name for name in REQUIRED_FIELDS if not entry.get(name)]
        if missing:
            raise AllowlistError(f"{path.name} entry {n}: missing {', '.join(missing)}")
        if not isinstance(entry["review_by"], dt.date):
            raise AllowlistError(f"{path.name} entry {n}: review_by must be a date (2027-01-31), not a string")
        accepted.append(Accepted(entry["id"], entry["package"], entry["reason"], entry["review_by"]))
    return accepted


def overdue(accepted: list[Accepted], today: dt.date) -> list[Accepted]:
    return [entry for entry in accepted if entry.review_by < today]


def pip_audit_command(accepted: list[Accepted]) -> list[str]:
    command = [str(Path(sys.executable).with_name("pip-audit")), "--strict", "--progress-spinner", "off"]
    for requirements in REQUIREMENTS:
        command += ["--requirement", str(requirements)]
    for entry in accepted:
        command += ["--ignore-vuln", entry.vulnerability_id]
    return command


def main() -> int:
    try:
        accepted = load_allowlist(ALLOWLIST)
    except AllowlistError as error:
        print(f"audit: {error}", file=sys.stderr)
        return 1
    late = overdue(accepted, dt.date.today())
    if late:
        for entry in late:
            print(
                f"audit: {entry.vulnerability_id} ({entry.package}) was to be reviewed by {entry.review_by}: "
                f"upgrade {entry.package}, or re-decide and move the date in {ALLOWLIST.name}",
                file=sys.stderr,
            )
        return 1
    audited = subprocess.run(pip_audit_command(accepted), cwd=ROOT, check=False, capture_output=True, text=True)
    sys.stdout.write(audited.stdout)
    sys.stderr.write(audited.stderr)
    if audited.returncode != 0 and UNREACHABLE in audited.stderr:
        print(
            "audit: some packages could not be looked up, so they were NOT checked (the package index this machine "
            "reaches may not serve per-version vulnerability data). `make lint AUDIT=skip` skips the audit knowingly.",
            file=sys.stderr,
        )
    return audited.returncode


if __name__ == "__main__":
    sys.exit(main())
