"""Realistic slips a person makes when typing a figure into a disclosure.

Each slip takes the figure as written and returns the figure as mistyped (same formatting conventions:
thousands separators kept, decimals kept where they make sense), or None when it does not apply:

- ``transpose``: two adjacent different digits swapped (1,226.42 → 1,262.42);
- ``decimal_shift``: the decimal point one place off (14.13 → 141.3 or 1.413; 116 → 11.6);
- ``stale_prior``: last year's figure for the same thing left in place (needs the prior figure);
- ``wrong_denominator``: a share computed against the wrong total (needs the part and another total);
- ``neighbour_row``: a table cell taken from the row above or below (needs the neighbour's text);
- ``mistyped_digit``: one digit hit as its neighbour on the numeric keypad (1,226.42 → 1,526.42);
- ``dropped_digit``: one digit of the whole part left out (1,226.42 → 126.42).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from detector.numbers import to_decimal


def _decimals(written: str) -> int:
    return len(written.split(".", 1)[1]) if "." in written else 0


def format_like(value: Decimal, like: str) -> str:
    """``value`` written the way ``like`` is: same number of decimals, thousands separators if it has them."""
    places = _decimals(like)
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if "," in like:
        return f"{q:,.{places}f}"
    return f"{q:.{places}f}"


def transpositions(written: str) -> list[str]:
    """Every figure with two adjacent different digits swapped (no new leading zero)."""
    out = []
    chars = list(written)
    for i in range(len(chars) - 1):
        if chars[i].isdigit() and chars[i + 1].isdigit() and chars[i] != chars[i + 1] \
                and not (i == 0 and chars[i + 1] == "0"):
            swapped = chars[:]
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
            out.append("".join(swapped))
    return out


def decimal_shifts(written: str) -> list[str]:
    """The figure with its decimal point one place to the left and one place to the right, where that makes a
    different figure (116 → 11.6; 14.13 → 1.413 and 141.3)."""
    plain = written.replace(",", "")
    if plain.startswith("-") or len(plain.replace(".", "").lstrip("0")) < 2:
        return []
    point = plain.find(".") if "." in plain else len(plain)
    bare = plain.replace(".", "")
    out = []
    for new_point in (point - 1, point + 1):
        if not 0 <= new_point <= len(bare) or (new_point == len(bare) and "." not in plain):
            continue
        shifted = bare[:new_point] + ("." + bare[new_point:] if new_point < len(bare) else "")
        shifted = shifted.lstrip("0") or "0"
        if shifted.startswith("."):
            shifted = "0" + shifted
        if to_decimal(shifted) in (None, to_decimal(plain)):
            continue
        out.append(_regroup(shifted) if "," in written else shifted)
    return out


def _regroup(plain: str) -> str:
    head, _, tail = plain.partition(".")
    return f"{int(head):,}" + (f".{tail}" if tail else "")


def stale_prior(written: str, prior: Decimal | None) -> str | None:
    if prior is None or prior <= 0:
        return None
    new = format_like(prior, written)
    return None if to_decimal(new) == to_decimal(written) else new


def wrong_denominator(written: str, part: Decimal | None, other_whole: Decimal | None) -> str | None:
    if part is None or not other_whole or other_whole <= 0:
        return None
    new = format_like(part / other_whole * 100, written)
    value = to_decimal(new)
    if value is None or value == to_decimal(written) or value <= 0:
        return None
    return new


def neighbour_row(written: str, neighbour: str | None) -> str | None:
    if neighbour is None or to_decimal(neighbour) is None:
        return None
    n = neighbour.strip()
    return None if to_decimal(n) == to_decimal(written) or not n else n


# The keys around each key of a numeric keypad (7 8 9 / 4 5 6 / 1 2 3 / 0 under 1 and 2).
KEYPAD = {"0": "12", "1": "024", "2": "0135", "3": "26", "4": "157", "5": "2468", "6": "359", "7": "48",
          "8": "579", "9": "68"}


def mistyped_digits(written: str) -> list[str]:
    """Every figure with one digit replaced by a keypad neighbour (no new leading zero)."""
    out = []
    for i, ch in enumerate(written):
        for key in KEYPAD.get(ch, ""):
            leading = not any(c.isdigit() for c in written[:i]) and written[i + 1: i + 2] not in ("", ".")
            if key == "0" and leading:  # 1,226 → 0,226 is no figure anyone writes
                continue
            out.append(written[:i] + key + written[i + 1:])
    return out


def dropped_digits(written: str) -> list[str]:
    """Every figure with one digit of its whole part left out, separators regrouped (1,226.42 → 126.42); the
    whole part keeps at least one digit and gets no leading zero."""
    plain = written.replace(",", "")
    head, dot, tail = plain.partition(".")
    if not head.isdigit() or len(head) < 2:
        return []
    out: list[str] = []
    for i in range(len(head)):
        short = head[:i] + head[i + 1:]
        if short.startswith("0"):
            continue
        new = short + dot + tail
        new = _regroup(new) if "," in written else new
        if new not in out:
            out.append(new)
    return out
