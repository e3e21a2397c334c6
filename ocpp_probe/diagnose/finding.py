"""A finding (layer, level, text) and the collection the judging functions fill."""

from __future__ import annotations

from dataclasses import dataclass, field

LAYERS = ("settings", "network", "tls", "upgrade", "clock", "ocpp")


@dataclass(frozen=True)
class Finding:
    layer: str
    level: str  # OK, WARN, FAIL
    text: str


@dataclass
class Findings:
    items: list[Finding] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    def add(self, layer: str, level: str, text: str, suggestion: str = "") -> None:
        self.items.append(Finding(layer, level, text))
        if suggestion and suggestion not in self.suggestions:
            self.suggestions.append(suggestion)
