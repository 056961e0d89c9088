"""How a node translates each pair: directly with one installed model, or through a pivot language.

A pair's route has a tier (lingua_common.model_format: neural > rule-based > pivot > demo). A pivot chains two
direct routes of at least rule-based quality (a demo phrasebook is never a leg), and is planned only where no
direct route is better than a pivot — so with Apertium eng-spa and fr-es installed, en→fr goes en→es→fr
rather than through the phrasebook.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from lingua_common.model_format import (
    APERTIUM_MANIFEST,
    ENGINE_APERTIUM,
    MT_MANIFEST,
    TIER_BY_NAME,
    TIER_NEURAL,
    TIER_PIVOT,
    TIER_RULE_BASED,
)
from node_svc.engines.apertium import Marks, find_mode

log = logging.getLogger(__name__)

AUTO = "auto"  # the source language a node identifies by ear


class MtModel(Protocol):
    @property
    def model_id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def engine(self) -> str: ...
    @property
    def pairs(self) -> tuple[tuple[str, str], ...]: ...
    @property
    def path(self) -> Path: ...


@dataclass(frozen=True)
class MtRoute:
    src: str
    tgt: str
    tier: int
    engine: str
    pivot: str = ""
    legs: tuple[tuple[str, str, str], ...] = ()  # (model id, src, tgt) in order


@dataclass
class MtOutput:
    texts: list[str]
    engine: str
    tier: int
    pivot: str = ""
    marks: Marks = field(default_factory=Marks)


def mt_offers(model: MtModel) -> list[tuple[tuple[str, str], int]]:
    """The pairs an installed MT model can translate on this machine, each with its tier."""
    if model.engine == ENGINE_APERTIUM:
        manifest = _manifest(model.path / APERTIUM_MANIFEST)
        modes = manifest.get("modes", []) if isinstance(manifest, dict) else []
        return [((str(m["src"]), str(m["tgt"])), TIER_RULE_BASED) for m in modes
                if isinstance(m, dict) and find_mode(str(m.get("mode", ""))) is not None]
    manifest = _manifest(model.path / MT_MANIFEST)
    tier = TIER_BY_NAME.get(str(manifest.get("tier", "neural")), TIER_NEURAL) if isinstance(manifest, dict) \
        else TIER_NEURAL
    return [(pair, tier) for pair in model.pairs]


@lru_cache(maxsize=256)
def _manifest(path: Path) -> Any:
    """A model's manifest (cached: a version directory never changes once installed)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return {}


def plan_routes(direct: list[MtRoute]) -> dict[tuple[str, str], MtRoute]:
    """The best route per pair: the best direct one, or a pivot where that beats it."""
    best: dict[tuple[str, str], MtRoute] = {}
    for route in direct:
        key = (route.src, route.tgt)
        if key not in best or (route.tier, route.engine) < (best[key].tier, best[key].engine):
            best[key] = route
    legs = [r for r in best.values() if r.tier <= TIER_RULE_BASED]
    pivots: dict[tuple[str, str], tuple[tuple[int, str], MtRoute]] = {}
    for first in legs:
        for second in legs:
            key = (first.src, second.tgt)
            if first.tgt != second.src or first.src == second.tgt:
                continue
            if key in best and best[key].tier <= TIER_PIVOT:
                continue
            quality = (max(first.tier, second.tier), first.tgt)  # the weaker leg decides; then the language
            if key not in pivots or quality < pivots[key][0]:
                pivots[key] = (quality, MtRoute(first.src, second.tgt, TIER_PIVOT, f"{first.engine}+{second.engine}",
                                                pivot=first.tgt, legs=first.legs + second.legs))
    best.update({key: route for key, (_, route) in pivots.items()})
    return best
