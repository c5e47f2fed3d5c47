"""Public codes (Crockford base 32 + Luhn mod 32 check character) and the rate limiter."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.codes import (
    ALPHABET,
    PublicCodeError,
    check_character,
    code_hash,
    format_code,
    generate_code,
    is_well_formed,
    new_salt,
    normalize_code,
)
from governance.evaluation import CODE_BITS, CODE_DATA_CHARS
from governance.feedback import REFERENCE_BITS, REFERENCE_DATA_CHARS
from governance.ratelimit import RateLimiter, address_key

bodies = st.text(alphabet=ALPHABET, min_size=1, max_size=20)


def test_entropy_meets_the_requirements():
    assert CODE_BITS >= 64 and CODE_BITS == 75
    assert REFERENCE_BITS >= 50 and REFERENCE_BITS == 55
    assert len(generate_code(CODE_DATA_CHARS)) == 16
    assert len(generate_code(REFERENCE_DATA_CHARS)) == 12


def test_the_alphabet_has_no_ambiguous_letters():
    assert len(ALPHABET) == 32 and len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_codes_come_from_the_injected_source_and_use_every_bit():
    zero = generate_code(4, randbits=lambda bits: 0)
    assert zero == "0000" + check_character("0000")
    full = generate_code(4, randbits=lambda bits: (1 << bits) - 1)
    assert full[:4] == "ZZZZ"
    calls = []
    generate_code(15, randbits=lambda bits: calls.append(bits) or 0)
    assert calls == [75]


def test_fresh_codes_differ():
    codes = {generate_code(CODE_DATA_CHARS) for _ in range(2000)}
    assert len(codes) == 2000


@given(bodies)
def test_every_generated_code_is_well_formed(body):
    assert is_well_formed(body + check_character(body))


@settings(max_examples=200)
@given(bodies, st.data())
def test_a_single_mistyped_character_is_always_caught(body, data):
    code = body + check_character(body)
    position = data.draw(st.integers(0, len(code) - 1))
    other = data.draw(st.sampled_from([c for c in ALPHABET if c != code[position]]))
    assert not is_well_formed(code[:position] + other + code[position + 1 :])


def test_most_swapped_neighbours_are_caught():
    rng = random.Random(7)
    missed = total = 0
    for _ in range(3000):
        code = generate_code(11, randbits=rng.getrandbits)
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                total += 1
                missed += is_well_formed(code[:i] + code[i + 1] + code[i] + code[i + 2 :])
    assert missed / total < 0.01


def test_reading_is_forgiving():
    code = generate_code(15)
    shown = format_code(code)
    assert shown.count("-") == 3 and shown.replace("-", "") == code
    assert normalize_code(shown.lower(), data_chars=15) == code
    assert normalize_code(" " + " ".join(shown) + " ", data_chars=15) == code
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in shown)
    assert normalize_code(fullwidth, data_chars=15) == code


def test_o_and_i_read_as_digits():
    body = "0101010101"
    code = body + check_character(body)
    assert normalize_code(code.replace("0", "O").replace("1", "l"), data_chars=10) == code


@pytest.mark.parametrize(
    ("typed", "words"),
    [(None, "no code"), ("ABC", "3 characters"), ("U" * 16, "'U'"), ("*" * 16, "'*'")],
)
def test_malformed_codes_say_why(typed, words):
    with pytest.raises(PublicCodeError, match=words) as info:
        normalize_code(typed, data_chars=15)
    assert info.value.reason == "malformed"
    assert info.value.i18n_key == "code.error.malformed"


def test_a_typo_is_reported_as_a_typo_without_echoing_the_code():
    code = generate_code(15)
    typo = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
    with pytest.raises(PublicCodeError, match="check character") as info:
        normalize_code(typo, data_chars=15)
    assert typo not in str(info.value)


def test_hashes_are_keyed_and_ignore_the_presentation():
    code = generate_code(15)
    salt, other = new_salt(), new_salt()
    assert code_hash(code, salt=salt) == code_hash(format_code(code).lower(), salt=salt)
    assert code_hash(code, salt=salt) != code_hash(code, salt=other)
    assert len(code_hash(code, salt=salt)) == 64 and code not in code_hash(code, salt=salt)
    with pytest.raises(ValueError, match="16 random bytes"):
        code_hash(code, salt=b"short")


# -- rate limiter --------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_over_time():
    clock = Clock()
    limiter = RateLimiter(capacity=3, period_s=60, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.retry_after("a") == pytest.approx(20.0)
    assert limiter.allow("b")  # another address has its own bucket
    clock.now += 20
    assert limiter.allow("a") and not limiter.allow("a")
    clock.now += 600
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]


def test_a_failed_attempt_can_cost_more():
    limiter = RateLimiter(capacity=10, period_s=600, clock=Clock())
    assert limiter.allow("a", cost=5) and limiter.allow("a", cost=5)
    assert not limiter.allow("a")
    limiter.reset("a")
    assert limiter.allow("a")


def test_idle_buckets_are_pruned():
    clock = Clock()
    limiter = RateLimiter(capacity=1, period_s=1, clock=clock, max_keys=10)
    for i in range(10):
        limiter.allow(str(i))
    clock.now += 5
    limiter.allow("new")
    assert len(limiter) <= 10


def test_limiter_refuses_nonsense():
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(capacity=0)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        (None, "unknown"),
        ("  proxy-7 ", "proxy-7"),
    ],
)
def test_address_keys(address, key):
    assert address_key(address) == key
