"""Tests for barong.security.password_strength (port of the strong_password gem 0.0.9).

Vectors come from the reference (data-model.md section 3) and from the gem's own specs
(spec/strong_password/*_spec.rb in bdmac/strong_password).
"""

import random
import re
import time

import pytest

from barong.security import password_strength as ps


# --- reference vectors (data-model.md section 3) --------------------------------------------

@pytest.mark.parametrize(
    "password, expected",
    [
        ("Tecohvi0", 15.5),
        ("Password1", 2.0),
        ("Password1123", 6.0),
        ("Qq123123", 5.5),
        ("QqQq123123", 10.5),
        ("Iequ4geiEWQw", 19.59),
        ("eeC2BiCucxWEQ", 21.19),
        ("testPassword111", 14.12),
        ("ZahSh8ei", 15.5),
        ("Gol4aid2", 15.5),
        ("Gol4aid1", 15.0),
        ("Oo213Wqw", 14.5),
    ],
)
def test_entropy_reference_vectors(password, expected):
    assert ps.entropy(password) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(
    "password, verdict",
    [
        ("Tecohvi0", None),
        ("Iequ4geiEWQw", None),
        ("eeC2BiCucxWEQ", None),
        ("testPassword111", None),
        ("ZahSh8ei", None),
        ("Gol4aid2", None),
        ("Gol4aid1", None),
        ("Oo213Wqw", None),
        ("Password1", "weak"),
        ("Password1123", "weak"),
        ("Qq123123", "weak"),
        ("QqQq123123", "weak"),
        ("password", "requirements"),
        ("password1", "requirements"),
        ("Simple", "requirements"),
        ("X2qL32", "requirements"),
        ("eoV0qu", "requirements"),
    ],
)
def test_check_reference_verdicts(password, verdict):
    assert ps.check(password) == verdict
    assert ps.check(password, min_entropy=14, regexp=ps.DEFAULT_REGEXP, use_dictionary=True) == verdict


def test_exact_values_are_binary_fractions():
    # The gem's arithmetic is exact in binary floating point, so we can compare exactly.
    assert ps.entropy("Iequ4geiEWQw") == 19.59375
    assert ps.entropy("eeC2BiCucxWEQ") == 21.1875
    assert ps.entropy("testPassword111") == 14.125


# --- regexp -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "password, ok",
    [
        ("Tecohvi0", True),
        ("Aa345678", True),            # exactly 8
        ("Aa34567", False),            # 7
        ("Aa" + "1" * 78, True),       # exactly 80
        ("Aa" + "1" * 79, False),      # 81
        ("aaaaaaa1", False),           # no upper
        ("AAAAAAA1", False),           # no lower
        ("Aaaaaaaa", False),           # no digit
        ("Пароль123", True),           # Unicode lower/upper count, as in Ruby [[:lower:]]
        ("Aa1\nxxxxxxxxx", False),     # no single line satisfies everything
        ("short\nGood4Line", True),    # Ruby ^/$ are line anchors
    ],
)
def test_default_regexp(password, ok):
    assert (ps.check(password, use_dictionary=False, min_entropy=0) != "requirements") is ok
    # Barong's own Ruby spelling behaves the same
    got = ps.check(password, regexp=ps.BARONG_DEFAULT_REGEXP, use_dictionary=False, min_entropy=0)
    assert (got != "requirements") is ok


def test_default_regexp_is_plain_python_for_ascii():
    pattern = re.compile(ps.DEFAULT_REGEXP)
    assert pattern.search("Tecohvi0")
    assert not pattern.search("password1")
    assert not pattern.search("eoV0qu")


def test_ruby_posix_classes_are_translated():
    assert ps.check("abcdefgh", regexp=r"^[[:lower:]]+$", min_entropy=0) is None
    assert ps.check("abcdEfgh", regexp=r"^[[:lower:]]+$", min_entropy=0) == "requirements"
    assert ps.check("ab12", regexp=r"\A[[:alnum:]]{4}\z", min_entropy=0) is None
    assert ps.check("ab1!", regexp=r"\A[[:alnum:]]{4}\z", min_entropy=0) == "requirements"
    assert ps.check("a b", regexp=r"[[:^graph:]]", min_entropy=0) is None


def test_check_order_regexp_before_entropy():
    # "password" is both in the dictionary and failing the regexp: requirements wins.
    assert ps.check("password") == "requirements"
    # custom regexp that lets "password" through: then it is weak
    assert ps.check("password", regexp=r".{8,}") == "weak"


def test_min_entropy_and_dictionary_switches():
    assert ps.check("Password1", min_entropy=2) is None
    assert ps.check("Password1", use_dictionary=False) is None  # 17 bits without the dictionary
    assert ps.entropy("Password1", use_dictionary=False) == 17.0


# --- the gem's specs ----------------------------------------------------------------------------

@pytest.fixture
def no_bonus(monkeypatch):
    monkeypatch.setattr(ps, "_bonus_bits", lambda password: 0)


@pytest.mark.parametrize(
    "password, bits",
    [
        ("", 0),
        ("*", 4),
        ("**", 5.5),
        ("***", 6.625),
        ("****", 7.46875),
        ("****a", 9.46875),
        ("********", 9.1990966796875),
    ],
)
def test_nist_bits_with_repeats_weakened(no_bonus, password, bits):
    assert ps.nist_entropy(password) == bits


@pytest.mark.parametrize(
    "password, bonus",
    [
        ("Ab$9", 4),
        ("Ab $9", 6),
        ("A b $ 9", 7),
        ("Ab$", 3),
        ("Ab $", 5),
        ("A b $ c d", 6),
        ("1!", -4),
        ("1 !", -2),
        ("1 ! 2 # 3 $", -1),
        ("123", -8),
        ("1 23", -6),
        ("1 2 3 4 5 6", -5),
        ("blah", -2),
        ("blah blah", 0),
        ("blah blah blah blah", 1),
        (" a b c", 1),  # Ruby's split(/\s+/) keeps the leading empty field
        ("a b c ", 0),  # ...but drops trailing ones
    ],
)
def test_nist_bonus_bits(password, bonus):
    assert ps._bonus_bits(password) == bonus


@pytest.mark.parametrize(
    "password, bits",
    [
        ("qwertyuio", 5.5),
        ("1234567", 6),
        ("lkjhgfd", 6),
        ("0987654321", 5.5),
        ("zxcvbnm", 6),
        ("/.,mnbvcx", 5.5),
        ("password", 17.5),  # 'password' is not a keyboard sequence
    ],
)
def test_qwerty_adjuster(no_bonus, password, bits):
    assert ps.qwerty_adjusted_entropy(password, min_entropy=0) == bits


def test_qwerty_adjuster_returns_early_below_threshold(no_bonus):
    # gem: QwertyAdjuster.new.adjusted_entropy('1234567') == 16 (threshold 18, bonus 0)
    assert ps.qwerty_adjusted_entropy("1234567") == 16
    assert ps.qwerty_adjusted_entropy("1234567", min_entropy=18) == 16


def test_qwerty_dash_pieces_need_a_backslash():
    # The gem escapes '-' to '\-' before Regexp.union, so '90-' is never masked but '90\-' is.
    assert ps._mask_qwerty_strings("x90-x") == "x90-x"
    assert ps._mask_qwerty_strings("x90\\-x") == "x*x"
    assert ps._mask_qwerty_strings("xqwertyx") == "x*x"
    assert ps._mask_qwerty_strings("QWERTY") == "QWERTY"  # case-sensitive, not lower-cased


@pytest.mark.parametrize(
    "password, bits",
    [
        ("bnm,./", 14),
        ("h#e0zbPas", 19.5),
        ("password", 4),
        ("E_!3password", 11.5),
        ("h#e0zbPas 32e2i81 password", 31.0625),
        ("123456", 4),
        ("password123456", 14),
        ("asdf)asdf", 14),
        ("asdf[]asdf", 16),
    ],
)
def test_dictionary_adjuster(no_bonus, password, bits):
    assert ps.dictionary_adjusted_entropy(password) == bits


def test_dictionary_min_word_length():
    base = ps.dictionary_adjusted_entropy("6969")
    assert not ps.dictionary_adjusted_entropy("6969", min_word_length=6) < base


def test_password_variants():
    assert "password" in ps.password_variants("PASSWORD")
    assert ps.password_variants("zxcvbnm,./") == ["zxcvbnm,./"]
    assert {"asdfgh", "hgfdsa"} <= set(ps.password_variants("qwerty"))
    assert {"zxcvbn", "nbvcxz"} <= set(ps.password_variants("sdfghj"))
    assert {"password", "drowssap"} <= set(ps.password_variants("p4ssw0rd"))
    assert {"hibob", "hlbob"} <= set(ps.password_variants("h1b0b"))


@pytest.mark.parametrize(
    "password, min_entropy, use_dictionary, strong",
    [
        ("blahblah", 12, False, True),
        ("password", 12, False, True),
        ("wwwwwwww", 12, False, False),
        ("adamruge", 12, False, True),
        ("aB$1", 12, False, False),
        ("blahblah", 12, True, True),
        ("password", 12, True, False),
        ("wwwwwwww", 12, True, False),
        ("adamruge", 12, True, False),
        ("madaegur", 12, True, True),
        ("aB$1", 12, True, False),
        ("blahblah", 18, True, False),
        ("password", 18, True, False),
        ("adamruge", 18, True, False),
        ("correct horse battery staple", 18, True, True),
        ("correct horse battery staple", 40, True, False),
        ("c0rr#ct h0rs3 Batt$ry st@pl3 is Gr34t", 40, True, True),
    ],
)
def test_strength_checker(password, min_entropy, use_dictionary, strong):
    got = ps.entropy(password, use_dictionary=use_dictionary, min_entropy=min_entropy)
    assert (got >= min_entropy) is strong


def test_password_is_truncated_to_1000_chars():
    long = "ba" * 500_000
    assert ps.entropy(long) == ps.entropy(long[: ps.PASSWORD_LIMIT])


@pytest.mark.parametrize(
    "password, expected, json_text",
    [
        ("aB$1", 8, "8"),              # <= 8 distinct characters: Ruby keeps an Integer
        ("Tecohvi0", 15.5, "15.5"),
        ("Password1", 2, "2"),         # whole word -> "*": 4 - 2, an Integer in Ruby too
        ("QqQq123123", 10.5, "10.5"),  # repeats / 9+ characters: Float
        ("", -2, "-2"),
    ],
)
def test_int_float_typing_matches_ruby(password, expected, json_text):
    import json

    value = ps.entropy(password)
    assert value == expected
    assert json.dumps(value) == json_text


def test_empty_and_none():
    assert ps.entropy("") == -2  # no characters, "no space" bonus -2
    assert ps.check("") == "requirements"
    assert ps.check(None) == "requirements"


# --- the fast matchers behave like Ruby's Regexp.union --------------------------------------------

_ALPHABET = "qwertyuiopasdfghjklzxcvbnm1234567890-=[];',./\\!@$QWE *+?{}\""


def _random_strings(n, seed):
    rnd = random.Random(seed)
    return ["".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(0, 30))) for _ in range(n)]


def test_qwerty_mask_matches_regexp_union():
    union = re.compile("|".join(re.escape(a) for a in ps._qwerty_alternatives()))
    samples = _random_strings(2000, 1) + ["qwerty", "1qaz2wsx", "plokij", "0123456789", "abcdefgh",
                                          "asdfghjkl;", "]\"/=[;.-", "7894561230", "zxcvbnm,./"]
    for s in samples:
        assert ps._mask_qwerty_strings(s) == union.sub("*", s), s


def test_dictionary_sub_matches_regexp_union():
    words, lengths = ps._dictionary(4)
    ordered = sorted(words, key=len, reverse=True)
    union = re.compile("|".join(re.escape(w) for w in ordered))
    rnd = random.Random(2)
    samples = _random_strings(300, 3)
    pool = list(words)
    for _ in range(300):  # strings built from dictionary words, overlapping on purpose
        samples.append("".join(rnd.choice(pool)[rnd.randint(0, 2):] for _ in range(rnd.randint(1, 4))))
    for s in samples:
        assert ps._sub_first_dictionary_word(s, words, lengths) == union.sub("*", s, count=1), s


def test_word_list():
    words, _ = ps._dictionary(4)
    with open(ps._WORDS_FILE, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert len(lines) == 10_000 == len(set(lines))
    assert lines[:3] == ["password", "123456", "12345678"]
    assert lines[-1] == "eyphed"
    assert {"films+pic+galeries", "0.0.0.000", "pic\\'s", "??????"} <= words


# --- speed -------------------------------------------------------------------------------------

def test_entropy_is_fast():
    passwords = ["Tecohvi0", "Password1123", "eeC2BiCucxWEQ", "c0rr#ct h0rs3 Batt$ry st@pl3 is Gr34t",
                 "ZahSh8ei/Gol4aid2", "Aa" + "x1" * 39]
    ps.entropy("warm-up")
    rounds = 50
    start = time.perf_counter()
    for _ in range(rounds):
        for p in passwords:
            ps.check(p)
    per_call = (time.perf_counter() - start) / (rounds * len(passwords))
    assert per_call < 0.005, f"{per_call * 1000:.2f} ms per password"
