"""Findings for dependencies: what pip does on arm64 compared with amd64, in words that are true.

Only arm64 gaps are arm64 errors: when the amd64 twin target (same Python, same libc) cannot
install a requirement either, it is ARCH109 (info), never ARCH101/ARCH103. The version named is
the one pip picks. "ships no wheel" is said only of a release without any wheel; "compiled from
source" only of an sdist with native code. Transitive dependencies are reported at the direct
requirement that pulls them in, with the chain.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from packaging.version import InvalidVersion, Version

from archlint.deps import edits
from archlint.deps.availability import classify
from archlint.deps.index.interface import DistFile, Offline, PackageIndex, Project
from archlint.deps.index.urls import redact
from archlint.deps.resolve.finder import describe_files, platforms, version_or_none
from archlint.deps.targets import AMD64, ARM64
from archlint.deps.upgrade import candidates
from archlint.deps.work import Work, exact_version
from archlint.facts import (
    T_NONE,
    T_PURE,
    T_SDIST,
    T_UNKNOWN,
    T_WHEEL,
    UNAVAILABLE,
    UNKNOWN,
    Dependency,
    Evidence,
    Facts,
    Target,
)
from archlint.findings import Finding, Fix, Severity


def chain(w: Work) -> str:
    return " → ".join(w.dep.via or (w.dep.name,))


class Verdicts:
    def __init__(self, facts: Facts, lines: Mapping[str, list[str]], index: PackageIndex) -> None:
        self.facts = facts
        self.lines = lines
        self.index = index
        self.native: dict[str, bool | None] = {}  # sdist filename -> has native code (None: unknown)

    def line_text(self, dep: Dependency) -> str | None:
        ls = self.lines.get(dep.path)
        if ls is None or not dep.line or dep.line > len(ls):
            return None
        return ls[dep.line - 1]

    def finding(self, w: Work, rule: str, message: str, severity: Severity | None = None,
                fix: Fix | None = None) -> Finding:  # fmt: skip
        dep = w.dep
        line = dep.line or 1
        key = dep.name + (f";{dep.marker}" if dep.marker else "")
        if dep.via:
            key = "via:" + ">".join(dep.via)
        return Finding(
            rule=rule,
            message=message,
            path=dep.path,
            line=line,
            column=dep.column if dep.line else 1,
            end_line=line if dep.line and dep.end_column else None,
            end_column=dep.end_column if dep.line else None,
            severity=severity,
            key=key,
            fix=fix,
        )

    # -- wording --------------------------------------------------------------------------------

    def display(self, w: Work) -> str:
        dep = w.dep
        v = w.checked_version()
        if w.transitive:
            return f"{dep.name} {v}" if v else dep.name
        if w.unpinned or (v and dep.specifier and not dep.specifier.startswith(("==", "==="))):
            extras = f"[{','.join(dep.extras)}]" if dep.extras else ""
            return f"{dep.name}{extras}{dep.specifier} (pip picks {v})" if v else f"{dep.name}{extras}{dep.specifier}"
        return f"{dep.name}=={v}" if v else f"{dep.name}{dep.specifier}"

    def reason(self, w: Work) -> str:
        parts = []
        for t, p in w.arm().items():
            what = f"{p.version} {p.kind}" if p.version else p.kind
            parts.append(f"{t.label}: {what}" + (f" ({p.why})" if p.why and p.kind in (T_NONE, T_UNKNOWN) else ""))
        src = f"files listed in {w.dep.path}" if w.from_lock else (w.releases.project.index if w.releases else "")
        lead = f"{w.dep.name} ({src})" if src else w.dep.name
        if w.transitive:
            lead += f" via {chain(w)}"
        return lead + ": " + ", ".join(parts)

    def _subject(self, w: Work, version: bool = True) -> str:
        """Who the message is about: the direct requirement, or the chain for a transitive one."""
        if not w.transitive:
            return self.display(w)
        owner = w.owner
        assert owner is not None
        extras = f"[{','.join(owner.dep.extras)}]" if owner.dep.extras else ""
        what = self.display(w) if version else w.dep.name
        return f"{owner.dep.name}{extras} pulls in {what} ({chain(w)}), which"

    # -- findings -------------------------------------------------------------------------------

    def direct_reference(self, w: Work) -> Iterator[Finding]:
        dep = w.dep
        what = "an editable install" if dep.editable else "a direct reference"
        w.unknown(f"{what} ({redact(dep.url or dep.path)}): its files are not on an index")
        dep.status = UNKNOWN
        dep.reason = w.picks[w.targets[0]].why if w.targets else ""
        dep.targets = {t.label: T_UNKNOWN for t in w.targets}
        dep.resolved = {t.label: None for t in w.targets}
        yield self.finding(
            w,
            "ARCH107",
            f"{dep.name} comes from {what} ({redact(dep.url or dep.path)}): arm64 availability cannot be checked "
            "from an index; build it for linux/arm64 in CI to find out",
        )

    def report(self, w: Work) -> Iterator[Finding]:
        dep = w.dep
        if w.unpinned:
            yield self._unpinned(w)
        if w.kb is not None and (dep.status == UNKNOWN or self._gap_targets(w)):
            # The index outranks the knowledge base: it speaks only when the index lists nothing
            # for arm64 (or cannot be asked), and then explains why and what replaces it.
            yield from self._known_x86(w)
            yield from self._tree(w)
            return
        if dep.status == UNKNOWN and not w.transitive:
            sev = Severity.INFO if isinstance(w.error, Offline) else None  # the user asked for offline
            yield self.finding(w, "ARCH105", f"arm64 availability of {self.display(w)} is unknown: {dep.reason}",
                               severity=sev)  # fmt: skip
            yield from self._tree(w)
            return
        if w.yanked_pin and not w.transitive:
            yield self._yanked(w)
        if w.x86_bundled:
            yield self._bundled(w)
        yield from self._gaps(w)
        yield from self._versions(w)
        yield from self._conflicts(w)
        yield from self._tree(w)

    def _conflicts(self, w: Work) -> Iterator[Finding]:
        """ARCH112: pip cannot resolve the install set; an error only when amd64 can."""
        if not w.conflicts:
            return
        arm = [(t, n, why) for t, n, why in w.conflicts if t.platform == ARM64]
        amd = {(_twin_label(t), n) for t, n, _ in arm} & {(t.label, n) for t, n, _ in w.conflicts}
        if not arm:
            return
        t, name, why = arm[0]
        everywhere = bool(amd)
        where = f"{t.label}" + (" (and on amd64)" if everywhere else " (amd64 resolves it)")
        msg = f"pip cannot install these requirements on {where}: {name}: {why}"
        if len(arm) > 1:
            msg += f" (and {len(arm) - 1} more conflict{'s' if len(arm) > 2 else ''})"
        sev = Severity.WARNING if everywhere else Severity.ERROR
        if not everywhere:
            self.facts.evidence.append(Evidence(w.dep.path, w.dep.line, msg, blocks_arm64=True, rule="ARCH112"))
        yield self.finding(w, "ARCH112", msg, severity=sev)

    def _unpinned(self, w: Work) -> Finding:
        dep = w.dep
        picks = w.arm()
        got = sorted({p.version for p in picks.values() if p.version})
        if got:
            where = ", ".join(f"{v} on {', '.join(t.label for t, p in picks.items() if p.version == v)}" for v in got)
            checked = f"pip picks {where} today"
        else:
            checked = "what pip installs depends on the resolver"
        return self.finding(w, "ARCH106", f"{dep.name}{dep.specifier} is not pinned to one version; {checked}")

    def _yanked(self, w: Work) -> Finding:
        v = w.checked_version()
        newer = ""
        if w.releases is not None and v:
            good = candidates(w.releases.project, v, w.targets)
            if good.ordered:
                newer = f"; {good.ordered[0]} is the next release with wheels for every target"
        return self.finding(
            w, "ARCH111", f"{w.dep.name}=={v} is a yanked release (PEP 592): pip still installs the exact pin, "
            f"with a warning{newer}"
        )  # fmt: skip

    def _gap_targets(self, w: Work) -> list[Target]:
        """arm64 targets that install nothing where their amd64 twin installs something (or has no twin)."""
        out = []
        for t, p in w.arm().items():
            twin = w.twin(t)
            if p.kind == T_NONE and (twin is None or twin.kind not in (T_NONE, T_UNKNOWN)):
                out.append(t)
        return out

    def _gaps(self, w: Work) -> Iterator[Finding]:
        arm = w.arm()
        none = [t for t, p in arm.items() if p.kind == T_NONE]
        sdist = [t for t, p in arm.items() if p.kind == T_SDIST]
        if none:
            gap = self._gap_targets(w)
            if not gap:
                if all((twin := w.twin(t)) is not None and twin.kind == T_NONE for t in none):
                    yield self._nowhere(w, none)
                return
            yield self._unavailable(w, gap)
            return
        if sdist:
            twins = [w.twin(t) for t in sdist]
            if all(p is not None and p.kind == T_SDIST for p in twins):
                yield self._sdist_everywhere(w, sdist)
            else:
                yield self._needs_build(w, [t for t in sdist if (p := w.twin(t)) is None or p.kind != T_SDIST])

    def _hint(self, w: Work, unavailable: bool = False) -> tuple[str, Fix | None]:
        dep = w.dep
        sug = dep.suggestion
        v = w.checked_version()
        if sug is not None and not w.unpinned and not w.transitive:
            return f"; {sug.reason}", edits.upgrade_fix(dep, sug.version, self.line_text(dep))
        if w.releases is not None and v and not w.transitive:
            newer = candidates(w.releases.project, v, w.targets)
            if newer.ordered:
                return "", None
            older = self._newest_for_arm(w) if unavailable else None
            if older is not None and older != v:
                return (f"; no newer release has wheels for every target; the newest release arm64 can install "
                        f"at all is {older}"), None  # fmt: skip
            return "; no newer release has wheels for every target", None
        if isinstance(w.error, Offline):
            return "; run without --offline to look for a release with wheels", None
        return "", None

    def _newest_for_arm(self, w: Work) -> str | None:
        """The newest release with an installable file for every arm64 target (any specifier)."""
        if w.releases is None:
            return None
        for v, key in w.releases.versions:
            if v.is_prerelease:
                continue
            if all(w.releases.finder(t).evaluate(v, key)[0] is not None for t in w.arm()):
                return str(v)
        return None

    def _why(self, w: Work, targets: Sequence[Target]) -> str:
        whys = list(dict.fromkeys(w.picks[t].why for t in targets if w.picks[t].why))
        return "; ".join(whys)

    def _unavailable(self, w: Work, gap: list[Target]) -> Finding:
        dep = w.dep
        hint, fix = self._hint(w, unavailable=True)
        hashed = " (only files matching its --hash values count)" if w.hashes is not None and not dep.files else ""
        amd = sorted({p.version for t in gap if (p := w.twin(t)) is not None and p.version})
        also = f" (amd64 installs {w.dep.name} {', '.join(amd)})" if amd else ""
        why = self._why(w, gap) or "no compatible wheel and no sdist"
        labels = ", ".join(t.label for t in gap)
        if w.transitive:
            owner = w.owner
            assert owner is not None
            extras = f"[{','.join(owner.dep.extras)}]" if owner.dep.extras else ""
            msg = (f"{self._subject(w, version=False)} cannot be installed on {labels}: {why}{also}; pip fails to "
                   f"install {owner.dep.name}{extras} there")  # fmt: skip
            if w.extra_route:
                fix = edits.drop_extras_fix(owner.dep, self.line_text(owner.dep),
                                            f"only that extra needs {w.dep.name}")  # fmt: skip
                msg += f"; only its [{','.join(owner.dep.extras)}] extra needs {w.dep.name}"
        else:
            msg = f"{self.display(w)} cannot be installed on {labels}: {why}{hashed}{also}{hint}"
        self.facts.evidence.append(Evidence(dep.path, dep.line, msg, blocks_arm64=True, rule="ARCH103"))
        return self.finding(w, "ARCH103", msg, fix=fix)

    def _bundled(self, w: Work) -> Finding:
        """ARCH113: a wheel tagged for any platform that carries x86 binaries only."""
        dep = w.dep
        labels = ", ".join(t.label for t in w.x86_bundled)
        files = sorted({p.file.filename for t in w.x86_bundled if (p := w.picks[t]).file is not None})
        names = sorted({n.rsplit("/", 1)[-1] for ns in w.x86_bundled.values() for n in ns})
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        what = f"its wheel {files[0]}" if len(files) == 1 else "its wheels"
        lead = f"{self._subject(w)} installs" if w.transitive else f"{self.display(w)} installs"
        msg = (f"{lead} on {labels}, but {what} is tagged for any platform and carries x86-64 binaries "
               f"({shown}): they fail to load on arm64 (exec format error / wrong ELF class)")  # fmt: skip
        # (a direct requirement's suggestion already names it)
        newer = dep.suggestion.version if dep.suggestion is not None else self.first_arm_wheel(w)
        if newer is not None:
            msg += f"; {dep.name} {newer} is the first newer release with a linux arm64 wheel"
        self.facts.evidence.append(Evidence(dep.path, dep.line, msg, blocks_arm64=True, rule="ARCH113"))
        return self.finding(w, "ARCH113", msg)

    def first_arm_wheel(self, w: Work) -> str | None:
        """The oldest release newer than the one checked with a platform wheel for every arm64
        target (a binary wheel built for arm64, not another wheel tagged for any platform)."""
        v = w.checked_version()
        if w.releases is None or v is None:
            return None
        try:
            current = Version(v)
        except InvalidVersion:
            return None
        for ver, key in sorted(w.releases.versions):
            if ver <= current or ver.is_prerelease:
                continue
            picks = [w.releases.finder(t).evaluate(ver, key)[0] for t in w.x86_bundled]
            if picks and all(c is not None and c.kind == T_WHEEL for c in picks):
                return str(ver)
        return None

    def _nowhere(self, w: Work, none: list[Target]) -> Finding:
        why = self._why(w, none) or "no installable file"
        labels = ", ".join(t.label for t in none)
        return self.finding(
            w, "ARCH109", f"{self._subject(w)} cannot be installed on any target ({labels} and their amd64 twins): "
            f"{why}; not an arm64 gap"
        )  # fmt: skip

    def _sdist_files(self, w: Work, targets: Sequence[Target]) -> list[DistFile]:
        return [f for t in targets if (f := w.picks[t].file) is not None]

    def _release(self, w: Work) -> tuple[DistFile, ...]:
        v = w.checked_version()
        if w.releases is None or not v:
            return ()
        return w.releases.project.releases.get(v, ())

    def _sdist_everywhere(self, w: Work, sdist: list[Target]) -> Finding:
        hint, fix = self._hint(w)
        files = self._release(w)
        wheels = [f for f in files if f.filename.endswith(".whl") and not f.yanked]
        labels = " or ".join(dict.fromkeys(lbl for t in sdist for lbl in (t.label, _twin_label(t))))
        if wheels or not files:
            have = f" (its wheels: {platforms(wheels)})" if wheels else ""
            what = f"has no wheel for {labels}{have}"
        else:
            what = "ships no wheels at all (sdist only)"
        native = self._native(w, sdist)
        build = {True: "it is compiled from source on amd64 too", False: "pip builds a pure-Python wheel from it on "
                 "every target", None: "pip builds it from the sdist on amd64 too"}[native]  # fmt: skip
        return self.finding(w, "ARCH104", f"{self._subject(w)} {what}: {build}, so this is not an arm64 gap{hint}"
                            f"{self._kb_note(w)}", fix=fix)  # fmt: skip

    def _needs_build(self, w: Work, sdist: list[Target]) -> Finding:
        dep = w.dep
        hint, fix = self._hint(w)
        hashed = " (only files matching its --hash values count)" if w.hashes is not None and not dep.files else ""
        native = self._native(w, sdist)
        labels = ", ".join(t.label for t in sdist)
        if native is False:
            how = "pip builds a pure-Python wheel from its sdist there (no compiler needed)"
            sev: Severity | None = Severity.INFO
        elif native:
            how = "pip compiles it from the sdist there (compiler, headers and build time in the image)"
            sev = None
        else:
            how = "pip builds it from the sdist there (a compiler in the image if it has native code)"
            sev = None
        msg = f"{self._subject(w)} has no wheel for {labels}{hashed}: {how}{hint}{self._kb_note(w)}"
        self.facts.evidence.append(Evidence(dep.path, dep.line, msg, blocks_arm64=False, rule="ARCH102"))
        return self.finding(w, "ARCH102", msg, severity=sev, fix=fix)

    def _kb_note(self, w: Work) -> str:
        """The knowledge base's word where the index lists files anyway (it explains; it does not decide)."""
        if w.kb is None:
            return ""
        repl = w.kb.get("replacement", "")
        return f" (knowledge base: {w.kb['reason']}" + (f"; consider {repl})" if repl else ")")

    def _native(self, w: Work, targets: Sequence[Target]) -> bool | None:
        """Whether the sdist pip would build has native code: binary wheels of the same release say
        yes, a pure wheel says no; otherwise unknown (the archive is not inspected offline)."""
        files = self._release(w)
        wheels = [f for f in files if f.filename.endswith(".whl")]
        if any(not f.filename.endswith("-none-any.whl") for f in wheels):
            return True
        if wheels:
            return False
        for f in self._sdist_files(w, targets):
            if f.filename in self.native:
                return self.native[f.filename]
        return None

    def _versions(self, w: Work) -> Iterator[Finding]:
        """ARCH108: arm64 gets another version than its amd64 twin."""
        diffs = []
        for t, p in w.arm().items():
            twin = w.twin(t)
            if p.version and twin is not None and twin.version and twin.version != p.version:
                diffs.append((t, p, twin))
        if not diffs:
            return
        t, p, twin = diffs[0]
        files = self._release_of(w, twin.version or "")
        why = f" ({twin.version}: {describe_files(files, t)})" if files and classify(files, t) == T_NONE else ""
        older = _older(p.version or "", twin.version or "")
        fix = None
        if not w.transitive and w.unpinned and older:
            fix = edits.pin_fix(w.dep, p.version or "", self.line_text(w.dep), "the release arm64 can install")
        subject = self._subject(w) if w.transitive else w.dep.name + w.dep.specifier
        verb = "gets" if w.transitive else "installs"
        msg = (f"{subject} {verb} {twin.version} on {_twin_label(t)} but {p.version} on {t.label}{why}"
               if not w.transitive else
               f"{self._subject(w).removesuffix(', which')} is {twin.version} on {_twin_label(t)} but {p.version} "
               f"on {t.label}{why}")  # fmt: skip
        yield self.finding(w, "ARCH108", msg, fix=fix)

    def _release_of(self, w: Work, version: str) -> tuple[DistFile, ...]:
        if w.releases is None:
            return ()
        return w.releases.project.releases.get(version, ())

    def _tree(self, w: Work) -> Iterator[Finding]:
        if w.transitive or (not w.tree_unknown and not w.tree_failed):
            return
        parts = []
        if w.tree_failed:
            parts.append(f"pip cannot resolve it on {w.tree_failed}")
        seen = list(dict.fromkeys(_unknown_part(w, n, kind, why) for n, kind, why in w.tree_unknown))
        if seen:
            more = f" (and {len(seen) - 3} more)" if len(seen) > 3 else ""
            parts.append("; ".join(seen[:3]) + more)
        # Offline (asked for) and dynamic sdist metadata (unknowable without a build) are expected
        # limits: info. A host or index that failed is a warning.
        expected = not w.tree_failed and all("offline" in why or "only an sdist" in why
                                             for _, _, why in w.tree_unknown)  # fmt: skip
        yield self.finding(w, "ARCH110", f"the dependency tree of {self.display(w)} is incomplete: "
                           + "; ".join(parts), severity=Severity.INFO if expected else None)  # fmt: skip

    # -- the knowledge base ---------------------------------------------------------------------

    def _known_x86(self, w: Work) -> Iterator[Finding]:
        """The index could not answer, or lists nothing for arm64: the knowledge base explains why."""
        dep = w.dep
        info = w.kb
        assert info is not None
        index_said = dep.status != UNKNOWN
        if not index_said:
            dep.status = UNAVAILABLE
            dep.targets = {t.label: (T_NONE if t.platform == ARM64 else T_UNKNOWN) for t in w.targets}
        dep.reason = info["reason"]
        replacement = info.get("replacement", "")
        version = w.checked_version() if index_said else _pinned(dep)
        keep: str | None = None
        note = ""
        if replacement and not w.transitive:
            keep, note = self._replacement_version(replacement, version, w.targets)
            how = f"; use {replacement}{'==' + keep if keep else ''} instead{note}"
        elif replacement:
            how = f"; {replacement} is the portable replacement"
        else:
            how = "; drop it (it is an optional x86 accelerator)"
        self.facts.evidence.append(
            Evidence(dep.path, dep.line, f"{dep.name}: {info['reason']}", blocks_arm64=True, rule="ARCH101")
        )
        fix = (
            None
            if w.transitive
            else edits.replace_fix(
                dep, replacement, keep, self.line_text(dep), list(self.lines.get(dep.path) or ()) or None
            )
        )
        subject = self._subject(w) if w.transitive else f"{dep.name}{dep.specifier}"
        yield self.finding(w, "ARCH101", f"{subject} has no arm64 build: {info['reason']}{how}", fix=fix)

    def _replacement_version(self, replacement: str, version: str | None, targets: Sequence[Target]
                             ) -> tuple[str | None, str]:  # fmt: skip
        """Keep the pinned version for the replacement where that release exists with wheels."""
        if not version:
            return None, ""
        ans = self.index.projects([replacement]).get(replacement)
        if not isinstance(ans, Project):
            return version, f" (version {version} not verified: {ans})" if ans else ""
        files = ans.releases.get(version)
        if files and all(classify(files, t) in (T_WHEEL, T_PURE) for t in targets):
            return version, ""
        # Versions of two projects are not comparable: take the replacement's newest release with
        # wheels for every target.
        newest = candidates(ans, "0", targets).newest
        if newest is not None:
            why = "has no wheels for every target" if files else "does not exist"
            return str(newest), f" ({replacement} {version} {why})"
        return None, f" ({replacement} has no release with wheels for every target)"


def _unknown_part(w: Work, name: str, kind: str, why: str) -> str:
    if kind == "lookup":
        return f"{name} could not be looked up ({why})"
    if kind == "search":
        return f"which {name} pip settles on is unknown ({why})"
    if name == w.dep.name:
        return f"its own dependencies are unknown ({why})"
    return f"what {name} depends on is unknown ({why})"


def _twin_label(t: Target) -> str:
    return Target(AMD64, t.python, t.libc, t.libc_version).label


def _older(a: str, b: str) -> bool:
    va, vb = version_or_none(a), version_or_none(b)
    return va is not None and vb is not None and va < vb


def _pinned(dep: Dependency) -> str | None:
    return exact_version(dep)
