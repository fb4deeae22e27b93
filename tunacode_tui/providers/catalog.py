"""The model catalog: context windows, output limits and prices, from a data file shipped with the package.

Unknown models still work: they get a stated default window and ``price=None`` (shown as "unknown"),
never a made-up number. Local endpoints (openai-compatible) are free: ``$0.00``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from tunacode_tui.core.messages import Usage

LOCAL_PROVIDERS = {"openai-compatible"}


@dataclass(slots=True, frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cached_input: float | None = None


@dataclass(slots=True, frozen=True)
class ModelInfo:
    name: str
    context_window: int
    max_output: int
    price: Price | None
    known: bool
    deprecated: str | None = None

    def cost(self, usage: Usage) -> float | None:
        """Cost of one request; ``None`` when the price is unknown."""
        if self.price is None:
            return None
        p = self.price
        cached_rate = p.cached_input if p.cached_input is not None else p.input
        return (
            usage.input_tokens * p.input
            + usage.cache_write_tokens * p.input * 1.25
            + usage.cache_read_tokens * cached_rate
            + usage.output_tokens * p.output
        ) / 1_000_000


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    text = resources.files("tunacode_tui.providers").joinpath("data/models.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def known_models() -> list[str]:
    return sorted(_load()["models"])


def lookup(full_name: str, *, context_window_override: int | None = None) -> ModelInfo:
    data = _load()
    provider = full_name.split(":", 1)[0]
    entry = data["models"].get(full_name)
    if entry is None and ":" in full_name:
        # Dated snapshots ("gpt-4.1-2025-04-14", "claude-opus-4-5-20251101") price like their alias.
        base = full_name
        while entry is None and "-" in base.split(":", 1)[1]:
            base = base.rsplit("-", 1)[0]
            entry = data["models"].get(base)
            if entry is not None and not full_name[len(base) + 1:].replace("-", "").isdigit():
                entry = None
                break
    if entry is None:
        free = Price(0.0, 0.0, 0.0) if provider in LOCAL_PROVIDERS else None
        return ModelInfo(
            full_name,
            context_window_override or data["_default_context_window"],
            data["_default_max_output"],
            free,
            known=False,
        )
    price = Price(entry["input"], entry["output"], entry.get("cached_input"))
    return ModelInfo(
        full_name,
        context_window_override or entry["context_window"],
        entry["max_output"],
        price,
        known=True,
        deprecated=entry.get("deprecated"),
    )


def format_cost(cost: float | None) -> str:
    if cost is None:
        return "unknown"
    return f"${cost:.4f}" if cost < 1 else f"${cost:.2f}"
