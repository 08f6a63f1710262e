"""Declarative context rules: triggers, promotions and verbosity, loaded from a YAML file.

Ops change what the bot is nudged to say without a deploy, so the file is data, not code:
conditions compare one named fact with a literal, and messages fill `{fact}` placeholders only
(no attribute access, no expressions). Everything is checked when the file loads, so a typo in a
fact name stops start-up instead of silently never firing.
"""

from __future__ import annotations

import re
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from graph.errors import ConfigError
from graph.model import Purpose

Fact = Literal[
    "identified",
    "personalized",
    "device",
    "channel",
    "intent",
    "last_chat_intent",
    "tier",
    "points",
    "ltv",
    "orders",
    "sessions",
    "first_visit",
    "days_since_last_visit",
    "segments",
    "cart_items",
    "cart_value",
    "cart_idle_minutes",
    "cart_abandoned",
    "hour",
    "weekday",
    "part_of_day",
    "season",
]
FACTS: frozenset[str] = frozenset(get_args(Fact))
Scalar = str | int | float | bool
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One comparison; exactly one operator. `contains` is for list facts (segments)."""

    fact: Fact
    eq: Scalar | None = None
    ne: Scalar | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    contains: Scalar | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Self:
        ops = [
            k
            for k in ("eq", "ne", "gt", "gte", "lt", "lte", "in_", "contains")
            if getattr(self, k) is not None
        ]
        if len(ops) != 1:
            raise ValueError(f"condition on {self.fact} needs exactly one operator, got {ops}")
        return self

    def holds(self, facts: dict[str, Any]) -> bool:
        value = facts.get(self.fact)
        if value is None:
            return False
        if self.eq is not None:
            return bool(value == self.eq)
        if self.ne is not None:
            return bool(value != self.ne)
        if self.in_ is not None:
            return value in self.in_
        if self.contains is not None:
            return isinstance(value, list) and self.contains in value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        for op, bound in (("gt", self.gt), ("gte", self.gte), ("lt", self.lt), ("lte", self.lte)):
            if bound is not None:
                return {
                    "gt": value > bound,
                    "gte": value >= bound,
                    "lt": value < bound,
                    "lte": value <= bound,
                }[op]
        return False  # pragma: no cover - the validator guarantees one operator


class Trigger(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    priority: int = 0
    requires: list[Purpose] = Field(default_factory=list)
    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)
    say: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.all and not self.any:
            raise ValueError(f"trigger {self.id} has no conditions")
        unknown = set(_PLACEHOLDER.findall(self.say)) - FACTS
        if unknown:
            raise ValueError(f"trigger {self.id} says unknown facts {sorted(unknown)}")
        if set("{}") & set(_PLACEHOLDER.sub("", self.say)):
            raise ValueError(f"trigger {self.id}: braces may only hold a fact name, as {{ltv}}")
        return self

    def fires(self, facts: dict[str, Any], granted: set[str]) -> bool:
        if not set(self.requires) <= granted:
            return False
        if not all(c.holds(facts) for c in self.all):
            return False
        return not self.any or any(c.holds(facts) for c in self.any)

    def render(self, facts: dict[str, Any]) -> str:
        return _PLACEHOLDER.sub(lambda m: _show(facts.get(m.group(1))), self.say)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if value % 1 else str(int(value))
    if value is None:
        return "?"
    return str(value)


class Promotion(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    text: str = Field(min_length=1, max_length=300)
    starts: date | None = None
    ends: date | None = None  # inclusive
    channels: list[str] | None = None

    def active(self, day: date, channel: str | None) -> bool:
        if self.starts is not None and day < self.starts:
            return False
        if self.ends is not None and day > self.ends:
            return False
        return self.channels is None or channel in self.channels


class Limits(_Strict):
    views: int = Field(ge=0, le=50)
    searches: int = Field(ge=0, le=50)
    cart_lines: int = Field(ge=0, le=100)
    recommendations: int = Field(ge=0, le=50)
    triggers: int = Field(ge=0, le=20)
    promotions: int = Field(ge=0, le=20)
    categories: int = Field(ge=0, le=10)


class ContextRules(_Strict):
    cart_abandoned_after_minutes: float = Field(default=30, gt=0)
    concise_devices: list[str] = Field(default_factory=lambda: ["mobile"])
    verbosity: dict[Literal["full", "concise"], Limits]
    promotions: list[Promotion] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if set(self.verbosity) != {"full", "concise"}:
            raise ValueError("verbosity needs both 'full' and 'concise' limits")
        for kind, items in (("trigger", self.triggers), ("promotion", self.promotions)):
            ids = [i.id for i in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"duplicate {kind} ids")
        return self

    def fired(self, facts: dict[str, Any], granted: set[str]) -> list[Trigger]:
        hits = [t for t in self.triggers if t.fires(facts, granted)]
        return sorted(hits, key=lambda t: -t.priority)


def parse_rules(text: str, origin: str) -> ContextRules:
    try:
        data = yaml.safe_load(text)
        return ContextRules.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"context rules {origin} are invalid: {exc}") from exc


def load_rules(path: Path | None) -> ContextRules:
    """The rules file named in settings, or the bundled default."""
    if path is None:
        text = resources.files("api").joinpath("context_rules.yaml").read_text(encoding="utf-8")
        return parse_rules(text, "(bundled)")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read context rules {path}: {exc}") from exc
    return parse_rules(text, str(path))
