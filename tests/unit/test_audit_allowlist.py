"""scripts/audit_dependencies.py: the allowlist's rules (every entry says why and until when) and the audit
it runs (strict, over both requirements files, minus exactly the accepted ids)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from scripts.audit_dependencies import ALLOWLIST, AllowlistError, load_allowlist, overdue, pip_audit_command

ENTRY = """
[[ignore]]
id = "GHSA-aaaa-bbbb-cccc"
package = "example"
reason = "only reachable through example.unsafe_load, which nothing here calls"
review_by = 2027-03-31
"""


def allowlist(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "audit-allowlist.toml"
    path.write_text(text)
    return path


def test_the_repository_allowlist_is_well_formed():
    load_allowlist(ALLOWLIST)


def test_an_entry_names_the_vulnerability_package_reason_and_review_date(tmp_path):
    (entry,) = load_allowlist(allowlist(tmp_path, ENTRY))
    assert (entry.vulnerability_id, entry.package, entry.review_by) == (
        "GHSA-aaaa-bbbb-cccc", "example", dt.date(2027, 3, 31))  # fmt: skip


@pytest.mark.parametrize(
    ("line", "complaint"),
    [('reason = "only reachable', "missing reason"), ("review_by = 2027-03-31", "missing review_by")],
)
def test_an_entry_without_a_reason_or_review_date_is_refused(tmp_path, line, complaint):
    text = "\n".join(row for row in ENTRY.splitlines() if not row.startswith(line.split(" ")[0]))
    with pytest.raises(AllowlistError, match=complaint):
        load_allowlist(allowlist(tmp_path, text))


def test_a_review_date_must_be_a_date(tmp_path):
    with pytest.raises(AllowlistError, match="must be a date"):
        load_allowlist(allowlist(tmp_path, ENTRY.replace("2027-03-31", '"soon"')))


def test_an_entry_is_overdue_the_day_after_its_review_date(tmp_path):
    accepted = load_allowlist(allowlist(tmp_path, ENTRY))
    assert overdue(accepted, dt.date(2027, 3, 31)) == []
    assert overdue(accepted, dt.date(2027, 4, 1)) == accepted


def test_the_audit_is_strict_covers_both_requirements_files_and_ignores_only_accepted_ids(tmp_path):
    command = pip_audit_command(load_allowlist(allowlist(tmp_path, ENTRY)))
    assert "--strict" in command
    files = [
        Path(command[n + 1]).relative_to(ALLOWLIST.parent) for n, arg in enumerate(command) if arg == "--requirement"
    ]
    assert files == [Path("requirements.txt"), Path("layers/shop/python/requirements.txt")]
    assert [command[n + 1] for n, arg in enumerate(command) if arg == "--ignore-vuln"] == ["GHSA-aaaa-bbbb-cccc"]
