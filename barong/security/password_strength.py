"""Password strength: a port of the Ruby gem ``strong_password`` 0.0.9 as Barong uses it.

Barong checks every new password in two steps:

1. ``password_regexp``: if it doesn't match, the error is ``password.requirements``;
2. ``StrongPassword::StrengthChecker.new(min_entropy:, use_dictionary:)
   .calculate_entropy(password)``: if that is below ``password_min_entropy``, the
   error is ``password.weak``.

The entropy part follows the gem's code (bdmac/strong_password, MIT licence; the
0.0.8+ API that 0.0.9 ships). Each part below names the Ruby class it ports:

* ``EntropyCalculator`` / ``NistBonusBits``: :func:`nist_entropy`;
* ``QwertyAdjuster``: :func:`qwerty_adjusted_entropy`;
* ``PasswordVariants``: :func:`password_variants`;
* ``DictionaryAdjuster``: :func:`dictionary_adjusted_entropy`. Its word list (the
  10,000 common passwords from the gem's ``COMMON_PASSWORDS``, in the gem's order)
  is ``common_passwords.txt`` next to this file;
* ``StrengthChecker#calculate_entropy``: :func:`entropy`.

The gem uses ``Regexp.union`` for its keyboard-sequence and dictionary
substitutions. Ruby tries the alternatives in list order at each position,
starting from the leftmost. Python's ``re`` does the same, but it is slow with
10,000 alternatives, so those substitutions look up exact strings in a dict/set
instead. The results are the same: the leftmost position wins, then the earliest
alternative in the list (for the dictionary that is the longest word, because the
gem sorts its list by length, longest first).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

__all__ = [
    "BARONG_DEFAULT_REGEXP",
    "DEFAULT_REGEXP",
    "PASSWORD_LIMIT",
    "check",
    "compile_password_regexp",
    "dictionary_adjusted_entropy",
    "entropy",
    "nist_entropy",
    "password_variants",
    "qwerty_adjusted_entropy",
]

# --------------------------------------------------------------------------------------
# Password policy regexp
# --------------------------------------------------------------------------------------

#: Barong's default ``password_regexp`` exactly as Barong spells it (Ruby syntax).
BARONG_DEFAULT_REGEXP = (
    r"^(?=.*[[:lower:]])(?=.*[[:upper:]])(?=.*[[:digit:]])(?=.*[[:graph:]]).{8,80}$"
)

#: Barong's default ``password_regexp`` in Python syntax: on one line, at least one
#: lower-case letter, one upper-case letter and one digit, 8 to 80 characters long.
#: (``[[:graph:]]`` is dropped because any letter satisfies it. Ruby's ``^``/``$``
#: always match at line breaks, hence ``(?m)``; use ``re.search``, as Ruby's ``=~``
#: does.) Written with ASCII letter classes so the string stays short. When this
#: pattern (or :data:`BARONG_DEFAULT_REGEXP`) is passed to :func:`check`, it is
#: compiled from the Ruby original instead, so non-ASCII lower/upper case letters
#: count too, as they do in Ruby.
DEFAULT_REGEXP = r"(?m)^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,80}$"

# POSIX bracket classes Ruby (Onigmo) supports, with their Unicode meaning.
_ASCII_PUNCT_SYMBOLS = set("$+<=>^`|~")


def _posix_predicate(name: str):
    cat = unicodedata.category
    preds = {
        "alpha": lambda c: c.isalpha() or cat(c) in ("Mn", "Mc", "Nl"),
        "alnum": lambda c: c.isalpha() or cat(c) in ("Mn", "Mc", "Nl", "Nd"),
        "ascii": lambda c: ord(c) < 128,
        "blank": lambda c: c == "\t" or cat(c) == "Zs",
        "cntrl": lambda c: cat(c) == "Cc",
        "digit": lambda c: cat(c) == "Nd",
        "graph": lambda c: not c.isspace() and cat(c) not in ("Cc", "Cn", "Cs"),
        "lower": lambda c: c.islower(),
        "print": lambda c: (not c.isspace() or cat(c) == "Zs") and cat(c) not in ("Cc", "Cn", "Cs"),
        "punct": lambda c: cat(c).startswith("P") or c in _ASCII_PUNCT_SYMBOLS,
        "space": lambda c: c.isspace(),
        "upper": lambda c: c.isupper(),
        "xdigit": lambda c: c in "0123456789abcdefABCDEF",
        "word": lambda c: c.isalnum() or cat(c) in ("Mn", "Mc", "Me", "Nl", "Pc"),
    }
    return preds.get(name)


def _class_escape(c: str) -> str:
    return "\\" + c if c in "\\]^-[" else c


@lru_cache(maxsize=None)
def _posix_class_body(name: str, negated: bool) -> str:
    """Body of a Python character class equal to Ruby's ``[:name:]`` (or ``[:^name:]``)."""
    if name == "digit":  # Python's \d is exactly Unicode Nd, like Ruby's [[:digit:]]
        return r"\D" if negated else r"\d"
    pred = _posix_predicate(name)
    if pred is None:
        raise re.error(f"invalid POSIX bracket type [:{name}:]")
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(sys.maxunicode + 1):
        ok = pred(chr(cp)) != negated
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, sys.maxunicode))
    parts = []
    for lo, hi in ranges:
        if lo == hi:
            parts.append(_class_escape(chr(lo)))
        else:
            parts.append(f"{_class_escape(chr(lo))}-{_class_escape(chr(hi))}")
    return "".join(parts)


_POSIX_RE = re.compile(r"\[:(\^?)([a-z]+):\]")


def _ruby_to_python(pattern: str) -> str:
    """Translate the Ruby-only bits of a Barong ``password_regexp`` to Python ``re``.

    Handles POSIX bracket classes (``[[:lower:]]``...), ``\\h``/``\\H`` (hex digit),
    ``\\z`` and ``\\Z``. Everything else is passed through unchanged.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    depth = 0  # inside a character class when > 0
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            if nxt == "h":
                out.append("0-9a-fA-F" if depth else "[0-9a-fA-F]")
            elif nxt == "H" and not depth:
                out.append("[^0-9a-fA-F]")
            elif nxt == "z" and not depth:
                out.append(r"\Z")
            elif nxt == "Z" and not depth:
                out.append(r"(?=\n?\Z)")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if depth and c == "[":
            m = _POSIX_RE.match(pattern, i)
            if m:
                out.append(_posix_class_body(m.group(2), bool(m.group(1))))
                i = m.end()
                continue
        if c == "[":
            depth += 1
            out.append(c)
            i += 1
            # a leading ']' (or '^]') inside a class is a literal
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":
                out.append(r"\]")
                i += 1
            continue
        if c == "]" and depth:
            depth -= 1
        out.append(c)
        i += 1
    return "".join(out)


@lru_cache(maxsize=64)
def compile_password_regexp(regexp: str) -> re.Pattern:
    """Compile a Barong ``password_regexp`` (Ruby or Python syntax) with Ruby semantics.

    ``^``/``$`` match at line breaks (as always in Ruby), ``.`` doesn't match a newline,
    and POSIX bracket classes keep their Unicode meaning. Use ``.search``.
    """
    if regexp in (DEFAULT_REGEXP, BARONG_DEFAULT_REGEXP):
        # Barong's default without its (?=.*[[:graph:]]) lookahead: any line with a
        # lower-case letter has a graph character, so the result is the same and we
        # skip building the large [[:graph:]] class.
        regexp = _BARONG_DEFAULT_REGEXP_NO_GRAPH
    return re.compile(_ruby_to_python(regexp), re.MULTILINE)


_BARONG_DEFAULT_REGEXP_NO_GRAPH = r"^(?=.*[[:lower:]])(?=.*[[:upper:]])(?=.*[[:digit:]]).{8,80}$"


# --------------------------------------------------------------------------------------
# EntropyCalculator + NistBonusBits
# --------------------------------------------------------------------------------------

#: ``StrengthChecker::PASSWORD_LIMIT``: only this many characters are scored.
PASSWORD_LIMIT = 1_000

_REPEAT_WEAKENING_FACTOR = 0.75
_ASCII_ALNUM_SPACE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")
_RUBY_WHITESPACE_RUN = re.compile(r"[ \t\r\n\f\v]+")  # Ruby's \s is ASCII-only


def _bonus_bits(password: str) -> int:
    """``NistBonusBits.calculate_bonus_bits_for``."""
    upper = lower = numeric = other = False
    for c in password:
        if not upper and c.isupper():  # /[[:upper:]]/
            upper = True
        if not lower and c.islower():  # /[[:lower:]]/
            lower = True
        if not numeric and c.isdecimal():  # /[[:digit:]]/ (Unicode Nd)
            numeric = True
        if not other and c not in _ASCII_ALNUM_SPACE:  # /[^a-zA-Z0-9 ]/
            other = True
    space = " " in password

    if upper and lower and other and numeric:
        bonus = 6
    elif upper and lower and other and not numeric:
        bonus = 5
    elif numeric and other and not upper and not lower:
        bonus = -2
    elif numeric and not other and not upper and not lower:
        bonus = -6
    else:
        bonus = 0

    if not space:
        bonus -= 2
    else:
        # Ruby's String#split(/\s+/) keeps a leading empty field, drops trailing ones.
        fields = _RUBY_WHITESPACE_RUN.split(password)
        while fields and fields[-1] == "":
            fields.pop()
        if len(fields) > 3:
            bonus += 1
    return bonus


def nist_entropy(password: str) -> float:
    """``EntropyCalculator.calculate(password)`` (NIST bits, repeats weakened).

    Like Ruby, the sum stays an ``int`` until a fractional term is added (a repeated
    character, or a 9th character), so e.g. ``aB$1`` scores ``8``, not ``8.0``. Python's
    int/float arithmetic, and ``min`` keeping the first of equal values, match Ruby, so
    the JSON number Barong renders is reproduced exactly.
    """
    multipliers: dict[str, float] = {}
    bits = 0
    for index, char in enumerate(password):
        value = multipliers.get(char, 1)
        multipliers[char] = value * _REPEAT_WEAKENING_FACTOR
        if index > 19:
            bits += value
        elif index > 7:
            bits += value * 1.5
        elif index > 0:
            bits += value * 2
        else:
            bits += 4
    return bits + _bonus_bits(password)


# --------------------------------------------------------------------------------------
# QwertyAdjuster
# --------------------------------------------------------------------------------------

QWERTY_STRINGS = (
    "1234567890-",
    "qwertyuiop",
    "asdfghjkl;",
    "zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]:?_{\"+}",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmik,ol.p;/-['=]:?_{\"+}",
    "qazwsxedcrfvtgbyhnujmikolp",
    "]\"/=[;.-pl,0okm9ijn8uhb7ygv6tfc5rdx4esz3wa2q1",
    "pl0okm9ijn8uhb7ygv6tfc5rdx4esz3wa2q1",
    "]\"/[;.pl,okmijnuhbygvtfcrdxeszwaq",
    "plokmijnuhbygvtfcrdxeszwaq",
    "014725836914702583697894561230258/369*+-*/",
    "abcdefghijklmnopqrstuvwxyz",
)


def _qwerty_alternatives() -> list[str]:
    """``QwertyAdjuster#gen_qw_strings`` for every string, in ``Regexp.union`` order.

    The gem turns the first ``-`` of each piece into ``\\-`` before ``Regexp.union``
    escapes it, so those pieces only match a literal backslash followed by ``-``.
    """
    alternatives = []
    for qwerty_string in QWERTY_STRINGS:
        for size in range(6, 2, -1):
            for start in range(len(qwerty_string) - size + 1):
                alternatives.append(qwerty_string[start : start + size].replace("-", "\\-", 1))
    return alternatives


def _build_first_index(alternatives: list[str]) -> tuple[dict[str, int], tuple[int, ...]]:
    first_index: dict[str, int] = {}
    for i, alt in enumerate(alternatives):
        first_index.setdefault(alt, i)
    lengths = tuple(sorted({len(a) for a in first_index}))
    return first_index, lengths


_QWERTY_INDEX, _QWERTY_LENGTHS = _build_first_index(_qwerty_alternatives())


def _mask_qwerty_strings(password: str) -> str:
    """``password.gsub(Regexp.union(all qwerty pieces), '*')``."""
    out: list[str] = []
    pos, n = 0, len(password)
    index = _QWERTY_INDEX
    while pos < n:
        best = None
        best_len = 0
        for size in _QWERTY_LENGTHS:
            if pos + size > n:
                break
            i = index.get(password[pos : pos + size])
            if i is not None and (best is None or i < best):
                best, best_len = i, size
        if best is None:
            out.append(password[pos])
            pos += 1
        else:
            out.append("*")
            pos += best_len
    return "".join(out)


def qwerty_adjusted_entropy(password: str, min_entropy: float = 18) -> float:
    """``QwertyAdjuster.new(min_entropy:).adjusted_entropy(password)``.

    The password is scored as given (the gem doesn't lower-case it here). The early
    returns use the threshold, which defaults to ``min_entropy``.
    """
    threshold = min_entropy
    reverse = password[::-1]
    lowest = min(nist_entropy(password), nist_entropy(reverse))
    if lowest < threshold:
        return lowest
    masked = _mask_qwerty_strings(password)
    if masked != password:
        lowest = min(lowest, nist_entropy(masked))
    if lowest < threshold:
        return lowest
    masked_reverse = _mask_qwerty_strings(reverse)
    if masked_reverse != reverse:
        lowest = min(lowest, nist_entropy(masked_reverse))
    return lowest


# --------------------------------------------------------------------------------------
# PasswordVariants
# --------------------------------------------------------------------------------------

_LEET_SPEAK = {
    "@": "a", "!": "i", "$": "s", "1": "i", "2": "z", "3": "e", "4": "a",
    "5": "s", "6": "g", "7": "t", "8": "b", "9": "g", "0": "o",
}
_LEET_SPEAK_ALT = {**_LEET_SPEAK, "1": "l"}
_LEET_CHARS = frozenset("@!$1234567890")
_BOTTOM_ROW_CHARS = frozenset("zxcvbnm,./<>?")

_KEYBOARDMAP_DOWNRIGHT = {
    "a": "z", "q": "a", "1": "q", "s": "x", "w": "s", "2": "w", "d": "c", "e": "d",
    "3": "e", "f": "v", "r": "f", "4": "r", "g": "b", "t": "g", "5": "t", "h": "n",
    "y": "h", "6": "y", "j": "m", "u": "j", "7": "u", "i": "k", "8": "i", "o": "l",
    "9": "o", "0": "p",
}
_KEYBOARDMAP_DOWNLEFT = {
    "2": "q", "w": "a", "3": "w", "s": "z", "e": "s", "4": "e", "d": "x", "r": "d",
    "5": "r", "f": "c", "t": "f", "6": "t", "g": "v", "y": "g", "7": "y", "h": "b",
    "u": "h", "8": "u", "j": "n", "i": "j", "9": "i", "k": "m", "o": "k", "0": "o",
    "p": "l", "-": "p",
}
_TABLES = {
    name: str.maketrans(mapping)
    for name, mapping in (
        ("leet", _LEET_SPEAK),
        ("leet_alt", _LEET_SPEAK_ALT),
        ("down_right", _KEYBOARDMAP_DOWNRIGHT),
        ("down_left", _KEYBOARDMAP_DOWNLEFT),
    )
}


def _variants(password: str, *tables: str) -> list[str]:
    result = []
    for name in tables:
        variant = password.translate(_TABLES[name])
        result.append(variant)
        result.append(variant[::-1])
    return result


def password_variants(password: str) -> list[str]:
    """``PasswordVariants.all_variants``: the password, keyboard-shift and leet variants."""
    password = password.lower()
    passwords = [password]
    if not any(c in _BOTTOM_ROW_CHARS for c in password):
        passwords += _variants(password, "down_right", "down_left")
    if any(c in _LEET_CHARS for c in password):
        passwords += _variants(password, "leet", "leet_alt")
    return list(dict.fromkeys(passwords))  # Array#uniq


# --------------------------------------------------------------------------------------
# DictionaryAdjuster
# --------------------------------------------------------------------------------------

_WORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=None)
def _dictionary(min_word_length: int = 4) -> tuple[frozenset[str], tuple[int, ...]]:
    """The gem's COMMON_PASSWORDS (words shorter than ``min_word_length`` dropped)."""
    with _WORDS_FILE.open(encoding="utf-8") as fh:
        words = frozenset(w for w in (line.strip() for line in fh) if len(w) >= min_word_length)
    lengths = tuple(sorted({len(w) for w in words}, reverse=True))
    return words, lengths


def _sub_first_dictionary_word(variant: str, words: frozenset[str], lengths: tuple[int, ...]) -> str:
    """``variant.sub(Regexp.union(words sorted longest first), '*')``."""
    n = len(variant)
    for pos in range(n):
        room = n - pos
        for size in lengths:
            if size > room:
                continue
            if variant[pos : pos + size] in words:
                return variant[:pos] + "*" + variant[pos + size :]
    return variant


def dictionary_adjusted_entropy(password: str, min_word_length: int = 4) -> float:
    """``DictionaryAdjuster.new(min_word_length:).adjusted_entropy(password)``."""
    words, lengths = _dictionary(min_word_length)
    base_password = password.lower()
    lowest = nist_entropy(base_password)
    for variant in password_variants(base_password):
        lowest = min(lowest, nist_entropy(_sub_first_dictionary_word(variant, words, lengths)))
    return lowest


# --------------------------------------------------------------------------------------
# StrengthChecker + Barong's check
# --------------------------------------------------------------------------------------


def entropy(password: str, use_dictionary: bool = True, min_entropy: float = 14) -> float:
    """``StrongPassword::StrengthChecker.new(min_entropy:, use_dictionary:).calculate_entropy``.

    Returns an ``int`` where Ruby returns an Integer (see :func:`nist_entropy`).

    ``min_entropy`` only affects the keyboard check's early returns, so it changes the
    number only when the result is below ``min_entropy`` anyway.
    """
    base_password = (password or "")[:PASSWORD_LIMIT]
    entropies = [
        nist_entropy(base_password),
        nist_entropy(base_password.lower()),
        qwerty_adjusted_entropy(base_password, min_entropy),
    ]
    if use_dictionary:
        entropies.append(dictionary_adjusted_entropy(base_password))
    return min(entropies)


def check(
    password: str,
    min_entropy: float = 14,
    regexp: str = DEFAULT_REGEXP,
    use_dictionary: bool = True,
) -> str | None:
    """Barong's password policy: ``None`` when strong, else ``"requirements"`` or ``"weak"``.

    ``regexp`` may be in Ruby syntax (as in Barong's ``BARONG_PASSWORD_REGEXP``) or Python
    syntax; see :func:`compile_password_regexp`.
    """
    password = password or ""
    if not compile_password_regexp(regexp or DEFAULT_REGEXP).search(password):
        return "requirements"
    if entropy(password, use_dictionary=use_dictionary, min_entropy=min_entropy) < min_entropy:
        return "weak"
    return None


# Load the word list at import so the first request doesn't pay for it.
_dictionary(4)
