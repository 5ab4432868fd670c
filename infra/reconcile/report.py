"""What a reconciliation found: one Check per invariant, with how many rows it looked at and each violation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Violation:
    where: str  # the row (table and key), execution, event or file it concerns
    problem: str  # what is wrong there, in a sentence


@dataclass
class Check:
    name: str  # the invariant, as a sentence
    checked: int = 0
    unit: str = "rows"
    violations: list[Violation] = field(default_factory=list)
    note: str | None = None  # why the check was skipped or narrowed
    skipped: bool = False

    def violation(self, where: str, problem: str) -> None:
        self.violations.append(Violation(where, problem))

    def line(self) -> str:
        if self.skipped:
            return f"SKIP  {self.name}: {self.note}"
        state = "ok  " if not self.violations else "FAIL"
        found = f", {len(self.violations)} violation(s)" if self.violations else ""
        note = f" ({self.note})" if self.note else ""
        return f"{state}  {self.name}: {self.checked} {self.unit} checked{found}{note}"


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def violations(self) -> list[tuple[str, Violation]]:
        """(check name, violation) for every violation of every check."""
        return [(check.name, violation) for check in self.checks for violation in check.violations]

    def check(self, name: str) -> Check:
        """The check of that name (tests assert on one check's violations)."""
        return next(check for check in self.checks if check.name == name)

    def text(self) -> str:
        lines = [check.line() for check in self.checks]
        if self.violations:
            lines.append("")
            lines.append(f"{len(self.violations)} violation(s):")
            lines += [f"- [{name}] {violation.where}: {violation.problem}" for name, violation in self.violations]
        else:
            lines.append("no violations")
        return "\n".join(lines)
