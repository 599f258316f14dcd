"""Region gazetteer: which prefecture (州/市) and county an item is about.

Matching works on the tokens the tokeniser already produced (every gazetteer
name is in its user dictionary), so finding the region costs a few dict
look-ups per token instead of another pass over the text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .taxonomy import DATA_DIR, SAFE_LOADER

DEFAULT_PATH = DATA_DIR / "gazetteer_yunnan.yaml"

# Ethnic names that appear in the official names of autonomous units; stripping
# them (and 自治州/自治县) gives the short forms people write: 石林彝族自治县 -> 石林.
_ETHNIC = "哈尼|纳西|拉祜|布朗|景颇|傈僳|独龙|普米|彝|苗|回|傣|佤|白|怒|藏|壮|瑶"
_AUTONOMOUS = re.compile(rf"^(.+?)(?:(?:{_ETHNIC})族)+自治(州|县)$")


@dataclass(frozen=True)
class Place:
    prefecture: str
    county: str | None  # None: the name denotes the prefecture itself


@dataclass(frozen=True)
class RegionMatch:
    prefecture: str
    county: str | None
    matched: tuple[str, ...]  # surface forms found in the text

    def to_json(self) -> dict:
        return {"prefecture": self.prefecture, "county": self.county}


def _short_forms(name: str, no_bare: set[str]) -> set[str]:
    forms = {name}
    m = _AUTONOMOUS.match(name)
    if m:
        stem, kind = m.group(1), m.group(2)
        forms.add(stem + kind)  # 石林县, 红河州
    else:
        stem = name[:-1] if name[-1] in "市县区州" else name
    if len(stem) >= 2 and stem not in no_bare:
        forms.add(stem)
    return forms


class Gazetteer:
    def __init__(self, raw: dict) -> None:
        self.province: str = raw["province"]
        no_bare = set(raw.get("no_bare_stem", []))
        self.names: dict[str, Place] = {}
        self.prefectures: list[str] = []
        self.counties: dict[str, list[str]] = {}
        for pref in raw["prefectures"]:
            pname = pref["name"]
            self.prefectures.append(pname)
            self.counties[pname] = list(pref["counties"])
            for county in pref["counties"]:
                for form in _short_forms(county, no_bare):
                    self._add(form, Place(pname, county))
            # Prefecture forms are added last so that a prefecture alias wins a
            # clash with a county stem (红河 is the prefecture, 红河县 the county).
            for form in _short_forms(pname, no_bare) | set(pref.get("aliases", [])):
                self._add(form, Place(pname, None), override=True)
        # Towns and 街道 by their full names only (大观街道, 草铺街道): bare, most are
        # ordinary words (大观, 太和, 温泉). Not given to the tokeniser: a follow-up naming
        # only its town is tied to the county by the tracker (monitor.track.identity).
        self.towns: dict[str, Place] = {}
        ambiguous: set[str] = set()
        for county, towns in (raw.get("towns") or {}).items():
            pname = next(p for p, counties in self.counties.items() if county in counties)
            for town in towns:
                if town in self.towns:  # two counties' towns of one name: safer unmatched
                    ambiguous.add(town)
                self.towns[town] = Place(pname, county)
        for town in ambiguous:
            del self.towns[town]

    def _add(self, form: str, place: Place, override: bool = False) -> None:
        if form in self.names and not override and self.names[form] != place:
            # An ambiguous short form is safer unmatched than wrong.
            del self.names[form]
            return
        self.names[form] = place

    def match_tokens(self, tokens: Iterable[str]) -> RegionMatch | None:
        """Most-mentioned prefecture, then its most-mentioned county."""
        names = self.names
        surfaces = [tok for tok in tokens if tok in names]  # most texts name no place
        if not surfaces:
            return None
        pref_votes: Counter[str] = Counter()
        county_votes: Counter[str] = Counter()
        for tok in surfaces:
            place = names[tok]
            pref_votes[place.prefecture] += 1
            if place.county:
                county_votes[place.county] += 1
        # Counter.most_common keeps first-seen order on ties: deterministic.
        prefecture = pref_votes.most_common(1)[0][0]
        own = [c for c, _ in county_votes.most_common() if c in self.counties[prefecture]]
        county = own[0] if own else None
        matched = tuple(
            dict.fromkeys(s for s in surfaces if self.names[s].prefecture == prefecture)
        )
        return RegionMatch(prefecture, county, matched)

    def match_text(self, text: str) -> RegionMatch | None:
        from .tokenize import raw_tokens  # late: the tokeniser depends on us

        return self.match_tokens(raw_tokens(text))


def load(path: Path | str = DEFAULT_PATH) -> Gazetteer:
    return Gazetteer(yaml.load(Path(path).read_text(encoding="utf-8"), Loader=SAFE_LOADER))


@lru_cache(maxsize=1)
def default() -> Gazetteer:
    return load(DEFAULT_PATH)
