"""Which municipalities border each other, for the distance part of matching: data, not code.

A small table for the demo regions (Kreis Heinsberg, Landkreis Reutlingen, Landkreis St. Wendel),
drawn from the map by hand. A deployment for another region replaces it (the municipalities'
shared borders can be derived from the BKG's VG250 boundaries).
"""

from __future__ import annotations

from enum import StrEnum

BORDERS: tuple[tuple[str, str], ...] = (
    # Kreis Heinsberg
    ("Heinsberg", "Waldfeucht"),
    ("Heinsberg", "Wassenberg"),
    ("Heinsberg", "Hückelhoven"),
    ("Heinsberg", "Geilenkirchen"),
    ("Heinsberg", "Gangelt"),
    ("Selfkant", "Gangelt"),
    ("Selfkant", "Waldfeucht"),
    ("Gangelt", "Geilenkirchen"),
    ("Geilenkirchen", "Übach-Palenberg"),
    ("Wassenberg", "Hückelhoven"),
    ("Wassenberg", "Wegberg"),
    ("Hückelhoven", "Wegberg"),
    ("Hückelhoven", "Erkelenz"),
    ("Wegberg", "Erkelenz"),
    # Landkreis Reutlingen
    ("Reutlingen", "Pfullingen"),
    ("Reutlingen", "Eningen unter Achalm"),
    ("Reutlingen", "Metzingen"),
    ("Pfullingen", "Eningen unter Achalm"),
    ("Pfullingen", "Lichtenstein"),
    ("Metzingen", "Dettingen an der Erms"),
    ("Dettingen an der Erms", "Bad Urach"),
    ("Bad Urach", "Römerstein"),
    ("Bad Urach", "Münsingen"),
    ("Münsingen", "Römerstein"),
    ("Münsingen", "Gomadingen"),
    ("Münsingen", "Hayingen"),
    ("Lichtenstein", "Engstingen"),
    ("Engstingen", "Trochtelfingen"),
    ("Trochtelfingen", "Gomadingen"),
    # Landkreis St. Wendel
    ("St. Wendel", "Marpingen"),
    ("St. Wendel", "Oberthal"),
    ("St. Wendel", "Namborn"),
    ("Tholey", "Marpingen"),
    ("Tholey", "Oberthal"),
    ("Namborn", "Freisen"),
    ("Nohfelden", "Freisen"),
    ("Nohfelden", "Nonnweiler"),
)


class Distance(StrEnum):
    SAME = "same"
    NEIGHBOURING = "neighbouring"
    FAR = "far"


def _neighbours() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for a, b in BORDERS:
        table.setdefault(a, set()).add(b)
        table.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in table.items()}


NEIGHBOURS: dict[str, frozenset[str]] = _neighbours()


def distance(home: str, workplace: str) -> Distance:
    if home == workplace:
        return Distance.SAME
    if home in NEIGHBOURS.get(workplace, ()):
        return Distance.NEIGHBOURING
    return Distance.FAR
