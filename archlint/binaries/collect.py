"""Turn examined binaries into findings and placement evidence, one finding per group.

A loose binary outside any group is reported on its own; binaries in a container (wheel, static
archive, tarball) or a group directory (site-packages distribution, virtualenv, container
filesystem) are reported once per (group, rule) with a count and examples.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from archlint.binaries.examine import Examined
from archlint.binaries.roots import Group
from archlint.facts import Evidence, Facts
from archlint.findings import Finding, Severity

EXAMPLES = 3
_ISA_FEATURES = {"x86-64-v2": "SSE4.2, POPCNT", "x86-64-v3": "AVX2, FMA, BMI2", "x86-64-v4": "AVX-512"}

NOUNS = {
    "ARCH501": "x86 binaries",
    "ARCH502": "binaries linking x86-only libraries",
    "ARCH503": "x86-64 binaries above the baseline ISA level",
    "ARCH506": "32-bit ARM binaries",
    "ARCH507": "binaries for other machines",
    "ARCH002": "malformed ELF files",
    "ARCH508": "binaries not fully read",
}


@dataclass
class _Obs:
    subject: str  # the file's repo path, or the member name inside a container
    text: str  # what is wrong with it, without the subject
    severity: Severity | None
    tag: str  # what varies between members (arch, library, level): listed in the summary


@dataclass
class Collector:
    facts: Facts
    max_evidence: int = 10_000
    _single: list[Finding] = field(default_factory=list)
    _groups: dict[tuple[str, str], list[_Obs]] = field(default_factory=lambda: defaultdict(list))
    _group_info: dict[str, Group] = field(default_factory=dict)
    _evidence_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def observe(
        self,
        rule: str,
        path: str,
        subject: str,
        text: str,
        group: Group | None,
        tag: str = "",
        severity: Severity | None = None,
    ) -> None:
        if group is None:
            msg = f"{subject}: {text}" if subject != path else text
            self._single.append(Finding(rule=rule, message=msg, path=path, severity=severity, key=f"{rule}:{subject}"))
            return
        self._group_info[group.key] = group
        self._groups[(group.key, rule)].append(_Obs(subject, text, severity, tag))

    def evidence(self, path: str, reason: str, rule: str, group: Group | None) -> None:
        bucket = group.key if group else path
        n = self._evidence_count[bucket]
        self._evidence_count[bucket] = n + 1
        if n < self.max_evidence:
            self.facts.evidence.append(Evidence(path=path, line=None, reason=reason, blocks_arm64=True, rule=rule))

    def record(
        self,
        ex: Examined,
        path: str,
        subject: str,
        group: Group | None,
        blocking: bool = True,
        machine: bool = True,
        where: str | None = None,
        counterpart: str | None = None,
    ) -> None:
        """The standard observations for one examined binary (x86, arm32, foreign, malformed).

        `blocking`: also record placement evidence for x86 code; `machine`: report the machine
        itself (off for wheels, whose machine is judged against their tags and siblings); `where`:
        how evidence names it (`app.whl!pkg/_x.so` for a member; default: the file's path);
        `counterpart`: an aarch64 build of the same file beside it (per-arch vendoring), which
        makes x86 code information, not a blocker."""
        where = where or path
        for problem in ex.problems:
            self.observe("ARCH002", path, subject, f"malformed ELF: {problem}", group, tag="malformed")
        for skipped in ex.skipped:
            self.observe("ARCH508", path, subject, f"not fully read: {skipped}", group, tag="cap")
        h = ex.header
        if h is None:
            return
        fam = h.family
        if fam == "x86" and counterpart is not None:
            text = (
                f"{ex.description}, with an aarch64 build beside it ({counterpart}): make sure the image copies "
                "the one for its platform (ARG TARGETARCH)"
            )
            self.observe("ARCH501", path, subject, text, group, tag=h.arch, severity=Severity.INFO)
        elif fam == "x86":
            interp = f", interpreter {ex.details.interp}" if ex.details.interp else ""
            if machine:
                text = f"{ex.description}{interp}: cannot run on arm64 nodes"
                self.observe("ARCH501", path, subject, text, group, tag=h.arch)
            if blocking:
                self.evidence(path, f"{where}: {ex.description}", "ARCH501", group)
            for name, lib in ex.x86_libs:
                text = f"{ex.description} needs {name}: {lib.reason}; {lib.replacement}"
                self.observe("ARCH502", path, subject, text, group, tag=name)
                if blocking:
                    self.evidence(path, f"{where} needs {name} ({lib.vendor}, x86 only)", "ARCH502", group)
            level = ex.details.isa_level
            if level and level != "x86-64-baseline":
                sev = Severity.INFO if level == "x86-64-v2" else None
                text = (
                    f"requires an {level} CPU ({_ISA_FEATURES.get(level, 'x86 extensions')}, from its GNU property "
                    "note): x86 SIMD code that needs a NEON/SVE port for arm64, and fails on older amd64 nodes"
                )
                self.observe("ARCH503", path, subject, text, group, tag=level, severity=sev)
        elif not machine:
            return
        elif fam == "arm32":
            text = f"{ex.description}: runs only on arm64 CPUs and kernels with 32-bit (AArch32) support"
            self.observe("ARCH506", path, subject, text, group, tag=h.arch)
        elif fam == "other":
            self.observe("ARCH507", path, subject, f"{ex.description}: runs on neither amd64 nor arm64", group, h.arch)

    def findings(self) -> Iterator[Finding]:
        yield from self._single
        for (gkey, rule), obs in self._groups.items():
            g = self._group_info[gkey]
            sev = max((o.severity for o in obs if o.severity), default=None) if all(o.severity for o in obs) else None
            if len(obs) == 1:
                o = obs[0]
                yield Finding(rule=rule, message=f"{g.label}: {o.subject}: {o.text}", path=g.path, severity=o.severity,
                              key=f"{gkey}:{rule}")  # fmt: skip
                continue
            tags = sorted({o.tag for o in obs if o.tag})
            examples = ", ".join(o.subject for o in obs[:EXAMPLES])
            more = f" and {len(obs) - EXAMPLES} more" if len(obs) > EXAMPLES else ""
            kinds = f" ({', '.join(tags[:6])}{', ...' if len(tags) > 6 else ''})" if tags else ""
            msg = f"{g.label}: {len(obs)} {NOUNS.get(rule, 'binaries')}{kinds}, e.g. {examples}{more}; {obs[0].text}"
            yield Finding(rule=rule, message=msg, path=g.path, severity=sev, key=f"{gkey}:{rule}")
