"""Code similarity by winnowing, the fingerprinting method of MOSS (pure; foundation module).

Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document fingerprinting"
(SIGMOD 2003), the algorithm behind MOSS: the code is turned into a sequence of normalised
tokens (every name a learner chooses becomes ``v``, every string ``s``; spacing, comments and
blank lines vanish), each run of :data:`K` tokens is hashed, and from every window of
:data:`WINDOW` consecutive hashes the smallest is kept (the rightmost on a tie). Two programs
that share a passage of at least ``K + WINDOW - 1`` tokens are guaranteed to share a
fingerprint, whatever was renamed or re-spaced around it. The grader keeps only the
fingerprints; the class report compares learners with :func:`resemblance`. A high overlap is a
reason to look, never a verdict: correct solutions of a short exercise are alike.
"""
from __future__ import annotations

import hashlib
import io
import keyword
import tokenize

K = 5
"""Tokens per hashed run (a small k suits the short functions of the exercises)."""
WINDOW = 4
"""Hashes per winnowing window."""
KEPT_NAMES = frozenset({"np", "numpy", "math", "self", "True", "False", "None"})
"""Names that are the course's vocabulary rather than the learner's choice: kept as they are."""


def normalised_tokens(source: str) -> list[str]:
    """The code's tokens with names, strings and layout normalised (``[]`` if it cannot be read).

    A name right after ``.`` is an attribute of a library (``np.exp``) and stays; so do keywords
    and :data:`KEPT_NAMES`. Other names become ``v``, strings ``s``; comments, blank lines and
    indentation amounts disappear (indentation changes remain as the tokens ``>`` and ``<``).
    """
    tokens, previous = [], ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            kind, text = token.type, token.string
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER):
                continue
            if kind == tokenize.NAME:
                kept = keyword.iskeyword(text) or text in KEPT_NAMES or previous == "."
                tokens.append(text if kept else "v")
            elif kind == tokenize.STRING or kind == getattr(tokenize, "FSTRING_START", -1):
                tokens.append("s")
            elif kind in (getattr(tokenize, "FSTRING_MIDDLE", -1),
                          getattr(tokenize, "FSTRING_END", -1)):
                continue
            elif kind == tokenize.NEWLINE:
                tokens.append(";")
            elif kind == tokenize.INDENT:
                tokens.append(">")
            elif kind == tokenize.DEDENT:
                tokens.append("<")
            else:
                tokens.append(text)
            previous = text
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError):
        return []
    return tokens


def _hash(run: list[str]) -> int:
    return int.from_bytes(hashlib.blake2b(" ".join(run).encode(), digest_size=6).digest(), "big")


def winnow(hashes: list[int], window: int = WINDOW) -> set[int]:
    """The winnowed fingerprints: the set of the minima of every window of ``window`` hashes."""
    if len(hashes) <= window:
        return {min(hashes)} if hashes else set()
    kept = set()
    for start in range(len(hashes) - window + 1):
        chunk = hashes[start:start + window]
        smallest = min(chunk)
        kept.add(smallest)
    return kept


def fingerprints(source: str, k: int = K) -> set[int]:
    """The winnowed fingerprints of a piece of code (empty for code shorter than ``k`` tokens).

    Parameters
    ----------
    source : str
        Python source.
    k : int, default K
        Tokens per hashed run.

    Returns
    -------
    set of int
        48-bit hashes.
    """
    tokens = normalised_tokens(source)
    return winnow([_hash(tokens[start:start + k]) for start in range(len(tokens) - k + 1)])


def resemblance(first: set[int], second: set[int]) -> float:
    """Shared fingerprints over all fingerprints of the two (Jaccard index), 0..1.

    1 for the same code; a learner whose few lines also appear in a longer submission scores
    low (containment is not resemblance: short correct code is alike by necessity).
    """
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
