"""Context rules, consent resolution and the token-budgeted prompt renderer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.prompt import Section, count_tokens, render
from api.rules import Condition, load_rules, parse_rules
from graph.errors import ConfigError
from privacy.consent import ConsentRecord, allows, in_force

BASE = """
verbosity:
  full: {views: 8, searches: 5, cart_lines: 10, recommendations: 5, triggers: 3, promotions: 3,
         categories: 3}
  concise: {views: 3, searches: 2, cart_lines: 3, recommendations: 3, triggers: 1,
            promotions: 1, categories: 1}
"""


def test_bundled_rules_load() -> None:
    rules = load_rules(None)
    assert {t.id for t in rules.triggers} >= {
        "vip_offer",
        "cart_abandonment_reminder",
        "first_visit",
        "lapsed_customer",
    }


@pytest.mark.parametrize(
    "extra, message",
    [
        ("triggers: [{id: t, say: hi, all: [{fact: nonsense, eq: 1}]}]", "nonsense"),
        ("triggers: [{id: t, say: 'hi {ltv.__class__}', all: [{fact: ltv, gt: 1}]}]", "braces"),
        ("triggers: [{id: t, say: 'hi {secret}', all: [{fact: ltv, gt: 1}]}]", "secret"),
        ("triggers: [{id: t, say: hi, all: [{fact: ltv, gt: 1, lt: 5}]}]", "exactly one"),
        ("triggers: [{id: t, say: hi}]", "no conditions"),
        (
            "triggers: [{id: t, say: hi, all: [{fact: ltv, gt: 1}]}, "
            "{id: t, say: ho, all: [{fact: ltv, gt: 1}]}]",
            "duplicate",
        ),
        ("promotions: [{id: p, text: x, starts: not-a-date}]", "starts"),
        ("unknown_key: 1", "unknown_key"),
    ],
)
def test_bad_rules_are_refused_at_load(extra: str, message: str | None) -> None:
    with pytest.raises(ConfigError) as err:
        parse_rules(BASE + extra, "test")
    if message:
        assert message in str(err.value)


def test_conditions_and_unknown_facts() -> None:
    gte = Condition.model_validate({"fact": "ltv", "gte": 100})
    assert gte.holds({"ltv": 100.0}) and not gte.holds({"ltv": 99.9})
    assert not gte.holds({"ltv": None}) and not gte.holds({})  # unknown never fires
    assert not gte.holds({"ltv": True})  # booleans are not numbers here
    member = Condition.model_validate({"fact": "tier", "in": ["gold"]})
    assert member.holds({"tier": "gold"}) and not member.holds({"tier": "silver"})
    seg = Condition.model_validate({"fact": "segments", "contains": "Champions"})
    assert seg.holds({"segments": ["Champions"]}) and not seg.holds({"segments": "Champions"})


def test_trigger_needs_its_consents_and_renders_only_facts() -> None:
    rules = parse_rules(
        BASE
        + """
triggers:
  - {id: a, priority: 1, say: "value {cart_value} of {cart_items}",
     all: [{fact: cart_items, gt: 0}]}
  - {id: b, priority: 5, requires: [personalization], say: "vip {ltv}",
     any: [{fact: ltv, gte: 10}, {fact: tier, eq: gold}]}
""",
        "test",
    )
    facts = {"cart_items": 2, "cart_value": 9.5, "ltv": 12.0, "tier": None}
    assert [t.id for t in rules.fired(facts, set())] == ["a"]
    fired = rules.fired(facts, {"personalization"})
    assert [t.id for t in fired] == ["b", "a"]  # by priority
    assert fired[1].render(facts) == "value 9.50 of 2"


def test_consent_in_force() -> None:
    rows = [
        ConsentRecord(purpose="personalization", granted=True, at=1),
        ConsentRecord(purpose="personalization", granted=False, at=5),
        ConsentRecord(purpose="analytics", granted=True, at=3),
    ]
    assert not allows(rows, "personalization") and allows(rows, "analytics")
    assert not allows(rows, "marketing")  # never asked: opt-in means no
    tie = [
        {"purpose": "marketing", "granted": False, "at": 7},
        {"purpose": "marketing", "granted": True, "at": 7},
    ]
    assert in_force(tie)["marketing"].granted is False
    assert in_force(list(reversed(tie)))["marketing"].granted is False


def test_token_counter_is_pessimistic_about_hard_text() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 4  # two 5-letter words, 2 each
    assert count_tokens("WHITE HANGING HEART") == 3 + 4 + 3
    assert count_tokens("❤") == 3  # three UTF-8 bytes
    assert count_tokens("a\nb") == 3


@settings(max_examples=200, deadline=None)
@given(
    sections=st.lists(
        st.tuples(st.text(max_size=12), st.lists(st.text(max_size=60), max_size=6)),
        min_size=1,
        max_size=8,
    ),
    budget=st.integers(16, 400),
)
def test_render_never_exceeds_the_budget(
    sections: list[tuple[str, list[str]]], budget: int
) -> None:
    text = render([Section(label, items) for label, items in sections], budget)
    assert count_tokens(text) <= budget


def test_render_keeps_priority_order_and_drops_the_tail() -> None:
    secs = [
        Section("", ["Session s1: customer c1"]),
        Section("Say", ["offer help"]),
        Section("Viewed", [f"item number {i}" for i in range(50)]),
    ]
    small = render(secs, 30)
    assert small.startswith("Session s1") and "Say: offer help" in small
    assert count_tokens(small) <= 30 and "item number 49" not in small
    assert "item number 49" in render(secs, 1000)
