"""How place names and queries are folded into the words the gazetteer matches.

Both sides go through the same folding, so "CHAPEL ST", "Chapel Street" and "chapel st." are
one name: lower case, accents removed ("Montréal" → "montreal"), punctuation split off,
common street abbreviations written out ("st" → "street", "ave" → "avenue"), numbered
streets in one form ("First", "1st" → "1st"), and "&" read as "and". Scripts that write a
name without spaces (Chinese, Japanese, Korean) keep each run of letters as one word, indexed
from every character on (`index_terms`), so any part of it finds it: "图书馆" finds
"市立图书馆" as "Library" finds "City Library".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

ABBREVIATIONS = {
    "st": "street", "str": "street", "ave": "avenue", "av": "avenue", "rd": "road",
    "blvd": "boulevard", "dr": "drive", "ln": "lane", "ct": "court", "pl": "place",
    "sq": "square", "pkwy": "parkway", "hwy": "highway", "ter": "terrace", "terr": "terrace",
    "cir": "circle", "wy": "way", "pk": "park", "hts": "heights", "ext": "extension",
    "mt": "mount", "ft": "fort", "n": "north", "s": "south", "e": "east", "w": "west",
    "ne": "northeast", "nw": "northwest", "se": "southeast", "sw": "southwest",
}
# Street types are matched but not indexed: nearly every address has one, so a range over
# "street" would be most of the index (a query needs at least one other word).
STREET_TYPES = frozenset({
    "street", "avenue", "road", "boulevard", "drive", "lane", "court", "place", "square",
    "parkway", "highway", "terrace", "circle", "way", "row", "extension",
})
# Joining words: "Chapel & College", "Chapel at College", "the Hill".
STOPWORDS = frozenset({"and", "at", "of", "the", "intersection"})
SEPARATORS = frozenset({"and", "at"})
_ORDINAL_WORDS = ("first second third fourth fifth sixth seventh eighth ninth tenth "
                  "eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth "
                  "eighteenth nineteenth twentieth").split()
_NUMBERED = re.compile(r"^(\d+)(st|nd|rd|th)$")


def _ordinal(number: int) -> str:
    """1 → "1st", 12 → "12th", 23 → "23rd"."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"


ORDINALS = {word: _ordinal(n) for n, word in enumerate(_ORDINAL_WORDS, start=1)}
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Han, kana and Hangul: a name in them is one run of letters, its words not spaced apart.
# Folding (NFKD) writes a Hangul syllable as its letters (jamo), so those count too.
_UNSPACED = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf"
                       "\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
# A folded syllable's vowel and final letters: a name is never read from inside a syllable.
_INSIDE_SYLLABLE = re.compile("[\u1160-\u11ff]")
MAX_UNSPACED = 24  # endings indexed per such word (names are short)


def fold(text: str) -> str:
    """Lower case without accents; "&" becomes " and "."""
    text = unicodedata.normalize("NFKD", text.replace("&", " and ").replace("@", " at "))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def canonical(word: str) -> str:
    """One folded word in its canonical form: abbreviations written out, ordinals as 1st."""
    word = ABBREVIATIONS.get(word, word)
    word = ORDINALS.get(word, word)
    if match := _NUMBERED.match(word):
        word = _ordinal(int(match.group(1)))
    return word


def raw_words(text: str) -> list[str]:
    """Folded words of a text, before abbreviations are written out."""
    return _WORD.findall(fold(text))


def words(text: str) -> list[str]:
    """Canonical words of a name or query, stop words kept (they separate intersections)."""
    return [canonical(w) for w in raw_words(text)]


def match_words(text: str) -> list[str]:
    """The words a name is matched on: canonical, without joining words."""
    return list(_matched(text))


@lru_cache(maxsize=4096)
def _matched(text: str) -> tuple[str, ...]:
    # Remembered: a bulk import folds each address for its search key, its street and its
    # index rows, once per portal showing it — six times the same text, most of its CPU.
    return tuple(w for w in words(text) if w not in STOPWORDS)


UNINDEXED = STREET_TYPES | STOPWORDS


def unspaced(word: str) -> bool:
    """Whether the word is in a script written without spaces (matched anywhere inside)."""
    return bool(_UNSPACED.search(word))


def index_terms(word: str) -> list[str]:
    """The index rows of one word: itself; and for a word written without spaces, also each
    of its endings, so a prefix look-up finds it from any character on."""
    if not unspaced(word):
        return [word]
    starts = [i for i, c in enumerate(word) if not _INSIDE_SYLLABLE.match(c)]
    return [word[i:] for i in starts[:MAX_UNSPACED]]


def indexed(word: str) -> bool:
    """Whether a word gets index rows (street types and joining words do not)."""
    return word not in STREET_TYPES and word not in STOPWORDS


def search_key(names: list[str]) -> str:
    """What candidates are checked against: " w1 w2 | w3 w4 " (leading and trailing spaces,
    so `LIKE '% w%'` is a word prefix and `'% w %'` a whole word)."""
    parts = [" ".join(match_words(name)) for name in names]
    return " " + " | ".join(p for p in parts if p) + " "


def grams(word: str) -> set[str]:
    """Trigrams of a word with its ends marked: what a misspelling still shares."""
    padded = f"${word}$"
    return {padded[i:i + 3] for i in range(max(1, len(padded) - 2))}


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
