"""Just enough shell: split a RUN line or CI script into simple commands and their words."""

from __future__ import annotations

import shlex

_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", ";;", "(", ")", "{", "}"})
MAX_WORDS = 100_000


def commands(script: str) -> list[list[str]]:
    """Simple commands of `script`, each a list of words with quotes removed.

    Newlines separate commands (heredoc bodies, multi-line CI scripts); an unbalanced quote
    falls back to whitespace splitting rather than failing.
    """
    text = script.replace("\\\n", " ").replace("\n", " ; ")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        for w in lexer:
            words.append(w)
            if len(words) > MAX_WORDS:
                break
    except ValueError:
        words = text.split()[:MAX_WORDS]
    out: list[list[str]] = []
    cur: list[str] = []
    for w in words:
        if w in _SEPARATORS:
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(w)
    if cur:
        out.append(cur)
    # Drop leading environment assignments and wrappers (`sudo`, `env X=1`) from each command.
    cleaned = []
    for cmd in out:
        while cmd and (("=" in cmd[0] and not cmd[0].startswith("-")) or cmd[0] in ("sudo", "env", "exec", "then",
                                                                                    "do", "else", "time")):  # fmt: skip
            cmd = cmd[1:]
        if cmd:
            cleaned.append(cmd)
    return cleaned


def option_value(words: list[str], *names: str) -> list[str]:
    """Values of `--name value` / `--name=value` / `-t value` options, in order."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        for name in names:
            if w == name and i + 1 < len(words):
                out.append(words[i + 1])
                i += 1
                break
            if name.startswith("--") and w.startswith(name + "="):
                out.append(w[len(name) + 1 :])
                break
        i += 1
    return out
