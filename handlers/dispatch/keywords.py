"""Find managed fault keywords in free text (Chinese and English) and map them to skill tags.

How matching works, and why:

* Text is NFKC-normalised (full-width letters and digits become ASCII) and case-folded.
* English (any non-CJK letters/digits) is split into words. A keyword matches only as a sequence of whole
  words, so "oil" does not fire on "boiling" and "spindle noise" needs both words, in order.
* Chinese runs are segmented with jieba. Each matcher owns a private jieba tokenizer whose dictionary is the
  default one plus the managed keywords as user words, so "主轴异响" is one token. Nothing is added to
  jieba's global tokenizer: two matchers built from different mappings never influence each other or
  other code using jieba.
* A Chinese keyword matches when it is a run of whole segmented words, or lies inside one segmented word:
  "液压" matches "液压站", "异响" matches "主轴异响"; but "主轴" does not match "主轴承", which jieba
  segments as 主|轴承 (a main bearing, not a spindle). Pure substring search would get that one wrong;
  requiring whole tokens only would miss 液压站.
* Punctuation breaks phrases: "主轴，异响" does not match "主轴异响".
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import jieba

jieba.setLogLevel(logging.WARNING)  # its dictionary-building chatter would fill every log and CLI output

_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RUN = re.compile(rf"(?P<cjk>[{_CJK_CHARS}]+)|(?P<word>(?:(?![{_CJK_CHARS}])[^\W_])+)")
# A gap containing one of these ends a phrase; other gaps (spaces, hyphens, slashes) only separate words.
_HARD_BREAK = set(",.;:!?，。；：！？、\n\r()（）[]【】{}<>《》\"'“”‘’|")
_PHRASE_BREAK = "\x00"

_base_lock = threading.Lock()
_base_tokenizer: jieba.Tokenizer | None = None


def _shared_dictionary() -> jieba.Tokenizer:
    """One private copy of jieba's default dictionary per process (loading it takes ~0.5 s)."""
    global _base_tokenizer
    with _base_lock:
        if _base_tokenizer is None:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _base_tokenizer = tokenizer
        return _base_tokenizer


class _DictionaryOverlay(dict):
    """Word frequencies: own entries (the managed keywords) over a read-only shared dictionary.

    jieba reads its FREQ with `in`, `[]` and `.get` and writes with `[]=`; writes land here, so
    `add_word` never touches the shared dictionary and no 500k-entry copy is made per matcher.
    (A ChainMap does the same but makes segmentation ~50 % slower.)
    """

    __slots__ = ("base",)

    def __init__(self, base: dict[str, int]):
        super().__init__()
        self.base = base

    def __contains__(self, word: object) -> bool:
        return dict.__contains__(self, word) or word in self.base

    def __missing__(self, word: str) -> int:
        return self.base[word]

    def get(self, word: str, default: int | None = None) -> int | None:  # type: ignore[override]
        if dict.__contains__(self, word):
            return dict.__getitem__(self, word)
        return self.base.get(word, default)


def _private_tokenizer() -> jieba.Tokenizer:
    """A tokenizer reading the shared dictionary and keeping its own user words to itself."""
    base = _shared_dictionary()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = _DictionaryOverlay(base.FREQ)
    tokenizer.total = base.total
    tokenizer.initialized = True
    return tokenizer


def normalise_text(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class Token:
    text: str
    cjk: bool
    start: int  # offsets into the matcher's canonical string, see KeywordMatcher.canonical
    end: int


@dataclass(frozen=True)
class KeywordHit:
    keyword: str  # as spelt in the managed mapping
    skills: tuple[str, ...]


class KeywordMatcher:
    """Managed keyword -> skill tags mapping, compiled for repeated matching.

    Build one per version of the mapping and reuse it: construction adds the keywords to a private jieba
    dictionary, matching is then read-only and thread-safe.
    """

    def __init__(self, keyword_skills: Mapping[str, Iterable[str]]):
        self._tokenizer = _private_tokenizer()
        for keyword in keyword_skills:
            for run in re.findall(rf"[{_CJK_CHARS}]+", normalise_text(keyword)):
                self._tokenizer.add_word(run)
        # canonical form -> (spelling, skills); spellings differing only in case or width merge.
        self._entries: dict[str, tuple[str, tuple[str, ...]]] = {}
        for keyword, skills in keyword_skills.items():
            canonical, _ = self.canonical(keyword)
            if not canonical or _PHRASE_BREAK in canonical:
                raise ValueError(f"keyword {keyword!r} must be words without sentence punctuation")
            spelling, known = self._entries.get(canonical, (keyword, ()))
            merged = tuple(dict.fromkeys((*known, *skills)))
            self._entries[canonical] = (spelling, merged)

    def tokenize(self, text: str) -> list[Token]:
        return self.canonical(text)[1]

    def canonical(self, text: str) -> tuple[str, list[Token]]:
        """Tokens of `text` and the string they spell: words of two adjacent non-CJK tokens are joined
        by a space, CJK tokens by nothing, tokens across sentence punctuation by a break character."""
        text = normalise_text(text)
        parts: list[str] = []
        tokens: list[Token] = []
        length = 0
        previous_end = 0
        for match in _TOKEN_RUN.finditer(text):
            gap = text[previous_end : match.start()]
            previous_end = match.end()
            cjk = match.lastgroup == "cjk"
            pieces = self._tokenizer.lcut(match.group(), HMM=False) if cjk else [match.group()]
            for index, piece in enumerate(pieces):
                if tokens:
                    if index == 0 and any(ch in _HARD_BREAK for ch in gap):
                        separator = _PHRASE_BREAK
                    elif not cjk and not tokens[-1].cjk:
                        separator = " "
                    else:
                        separator = ""
                    parts.append(separator)
                    length += len(separator)
                tokens.append(Token(piece, cjk, length, length + len(piece)))
                parts.append(piece)
                length += len(piece)
        return "".join(parts), tokens

    def find(self, text: str) -> list[KeywordHit]:
        """Managed keywords present in `text`, in mapping order, each once."""
        canonical, tokens = self.canonical(text)
        if not tokens:
            return []
        starts = {token.start for token in tokens}
        ends = {token.end for token in tokens}
        containing: list[Token | None] = [None] * len(canonical)
        for token in tokens:
            for offset in range(token.start, token.end):
                containing[offset] = token
        hits = []
        for keyword_form, (spelling, skills) in self._entries.items():
            position = canonical.find(keyword_form)
            while position >= 0:
                end = position + len(keyword_form)
                whole_words = position in starts and end in ends
                host = containing[position]
                inside_one_cjk_word = host is not None and host.cjk and end <= host.end
                if whole_words or inside_one_cjk_word:
                    hits.append(KeywordHit(spelling, skills))
                    break
                position = canonical.find(keyword_form, position + 1)
        return hits
