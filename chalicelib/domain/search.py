"""How the service guide finds what people type (办事指南检索): everyday words, abbreviations and
pinyin, ranked by one rule.

What a query is made of: the text is normalised (full-width to half-width, lower case) and cut
into words by jieba's segmenter; the words people type around what they want (我要, 怎么, 办理,
材料 …, the catalog's `fillers`) are dropped, and what remains is the query's core.

Which items it finds, best first (`rank`):

1. **exact**: the core is an item's name, its name without the bracketed part, or its code;
2. **keyword**: the core is one of the item's keywords (`keywords` in items.json), or an everyday
   word of the catalog's synonyms (synonyms.json: 开公司 → 企业设立登记, 环评 → 环境影响评价 …)
   whose terms the item's name or keywords contain; the synonym's first term before its later
   ones;
3. **words**: every word of the core is found in the item, each counting by where: as a keyword
   or synonym 4, in the name 3, in the department's name 2, in the description 1, and 2 more
   when the whole core is in the name;
4. **pinyin**: a query of Latin letters is the full pinyin (shenfenzheng) or the initials (sfz) of
   a word of an item's name, keywords, department or a synonym (30, 20), begins the full pinyin
   of one of them (at least four letters, 2), or is inside the full pinyin of an item's name
   (at least six letters: shigongxuke, 1).

Ties go by item code. The segmenter's dictionary and the pinyin tables are the libraries' own,
loaded once per process on the first search (`lexicon()`), so importing the app pays for
neither; the index of a catalog is built on its first search (chalicelib/domain/catalog.py)."""
from __future__ import annotations

import io
import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, NamedTuple

EXACT, KEYWORD, WORDS, PINYIN = 4, 3, 2, 1
# Where a word of the query was found in an item, and what it counts for (rule 3).
AS_KEYWORD, IN_NAME, IN_DEPARTMENT, IN_DESCRIPTION = 4, 3, 2, 1
PHRASE_IN_NAME = 2
MIN_PINYIN_PREFIX = 4
MIN_PINYIN_IN_NAME = 6
MIN_INITIALS = 2

_BRACKETED = re.compile(r"\([^)]*\)")
_LATIN = re.compile(r"[a-z]+")
_CODE = re.compile(r"[a-z]{2,8}(-\d{0,3})?")
_NOT_A_WORD = re.compile(r"[\W_]+")
# A line of jieba's dictionary ("word frequency tag") whose word it counts 100 times or more.
_COMMON_WORD = re.compile(rb"^[^ \n]+ [1-9]\d{2,}", re.M)
_NONE: frozenset = frozenset()
_SCORES = 1_000_000          # a tier's room for scores in a sort key: tier × _SCORES + score


def normalised(text: str) -> str:
    """Full-width letters, digits and brackets as half-width, lower case, no outer blanks."""
    return unicodedata.normalize("NFKC", text or "").lower().strip()


class Lexicon:
    """jieba's segmenter (its own dictionary, plus the catalog's everyday words so that 开公司
    stays one word) and pypinyin's spellings, loaded once per process (about 0.3 s)."""

    def __init__(self):
        import logging

        import jieba
        from pypinyin import lazy_pinyin

        jieba.setLogLevel(logging.WARNING)     # no "Building prefix dict" lines in the logs
        self._tokenizer = jieba.Tokenizer()
        # jieba's own dictionary less its rare words: a tenth of its entries, loaded in about
        # a tenth of the time (a query's rarer words are still cut by jieba's HMM, and an
        # item is matched on its text, not on how the words were cut).
        with self._tokenizer.get_dict_file() as dictionary:
            common = _COMMON_WORD.findall(dictionary.read())
        self._tokenizer.FREQ, self._tokenizer.total = self._tokenizer.gen_pfdict(
            io.BytesIO(b"\n".join(common)))
        self._tokenizer.initialized = True
        self._lazy_pinyin = lazy_pinyin
        self._spelled: dict[str, tuple[str, str]] = {}
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def learn(self, words: Iterable[str]) -> None:
        """Words the segmenter keeps whole (a catalog's synonyms and keywords)."""
        with self._lock:
            for word in words:
                if word not in self._known and len(word) > 1:
                    self._tokenizer.add_word(word, freq=max(self._tokenizer.FREQ.get(word, 0),
                                                            100_000))
                    self._known.add(word)

    def words(self, text: str) -> list[str]:
        """The words of a query, in order (accurate mode)."""
        return [w for w in self._tokenizer.lcut(text) if not _NOT_A_WORD.fullmatch(w)]

    def index_words(self, text: str) -> list[str]:
        """The words of an item's text and the shorter words inside them (search mode)."""
        return [w for w in self._tokenizer.lcut_for_search(text) if not _NOT_A_WORD.fullmatch(w)]

    def pinyin(self, word: str) -> tuple[str, str]:
        """(full spelling, initials) without tones: 身份证 → ("shenfenzheng", "sfz"). A word is
        spelled once per process (pypinyin takes a fifth of a millisecond a word)."""
        spelled = self._spelled.get(word)
        if spelled is None:
            syllables = [s.lower() for s in self._lazy_pinyin(word, errors="ignore") if s]
            spelled = self._spelled[word] = ("".join(syllables),
                                             "".join(s[0] for s in syllables))
        return spelled

    def spelling(self, text: str) -> str:
        """The full pinyin of a text, spelled word by word (each word's reading in context)."""
        return "".join(self.pinyin(word)[0] for word in self.words(text))


_LEXICON: Lexicon | None = None
_LEXICON_LOCK = threading.Lock()


def lexicon() -> Lexicon:
    global _LEXICON
    if _LEXICON is None:
        with _LEXICON_LOCK:
            if _LEXICON is None:
                _LEXICON = Lexicon()
    return _LEXICON


class Hit(NamedTuple):
    """An item a query found: by which rule (`tier`, EXACT … PINYIN) and how well inside it."""
    code: str
    tier: int
    score: int


@dataclass
class _Entry:
    code: str
    name: str
    short_name: str
    keywords: tuple[str, ...]
    keywords_text: str
    department: str
    description: str


class GuideIndex:
    """The search index of one catalog: built once, read by every search."""

    def __init__(self, items: Iterable[dict], department_names: dict[str, Iterable[str]],
                 synonyms: dict | None = None, lex: Lexicon | None = None):
        synonyms = synonyms or {}
        self._lex = lex or lexicon()
        self.fillers = frozenset(normalised(w) for w in synonyms.get("fillers", ()))
        everyday = {normalised(k): [normalised(t) for t in terms]
                    for k, terms in synonyms.get("synonyms", {}).items()}
        self._entries: dict[str, _Entry] = {}
        for item in items:
            name = normalised(item["name"])
            keywords = tuple(normalised(k) for k in item.get("keywords", ()))
            self._entries[item["code"]] = _Entry(
                code=item["code"], name=name, short_name=_BRACKETED.sub("", name).strip(),
                keywords=keywords, keywords_text="\n".join(keywords),
                department=" ".join(normalised(n) for n in
                                    department_names.get(item["lead_department"], ())),
                description=normalised(item.get("description", "")))
        self._lex.learn(list(everyday) + [k for e in self._entries.values() for k in e.keywords])

        self._by_position = sorted(self._entries)                    # ties go by code
        self._position = {code: i for i, code in enumerate(self._by_position)}
        self._names = {code: e.name for code, e in self._entries.items()}
        self._fields = {code: (e.name, e.keywords_text, e.department, e.description)
                        for code, e in self._entries.items()}
        # Whole-query lookups (rules 1 and 2).
        self._exact: dict[str, list[str]] = defaultdict(list)
        for e in self._entries.values():
            for form in {e.name, e.short_name, e.code.lower()}:
                self._exact[form].append(e.code)
        # keyword → {code: rank}: 0 for an item's own keyword, i for a synonym's i-th term.
        self._keywords: dict[str, dict[str, int]] = defaultdict(dict)
        for e in self._entries.values():
            for keyword in e.keywords:
                self._keywords[keyword][e.code] = 0
        for word, terms in everyday.items():
            for rank, term in enumerate(terms):
                for e in self._entries.values():
                    if term in e.name or term in e.keywords_text:
                        self._keywords[word].setdefault(e.code, rank)
        # Every character → the items whose text holds it: a word's candidates (rule 3).
        self._by_char: dict[str, set[str]] = defaultdict(set)
        for e in self._entries.values():
            for char in set(e.name + e.department + e.description + "".join(e.keywords)):
                self._by_char[char].add(e.code)
        # Every two characters → {code: what they count for there}: a two-character word (most
        # words people type: 登记, 许可, 社保) is looked up whole, a longer one's candidates are
        # the items holding all its pairs.
        self._by_pair: dict[str, dict[str, int]] = defaultdict(dict)
        for e in self._entries.values():
            weights: dict[str, int] = {}
            # the fields from the last checked to the first: the first to hold a pair names it
            for text, weight in ((e.description, IN_DESCRIPTION), (e.department, IN_DEPARTMENT),
                                 (e.keywords_text, AS_KEYWORD), (e.name, IN_NAME)):
                weights.update(dict.fromkeys([text[i:i + 2] for i in range(len(text) - 1)],
                                             weight))
            for pair, weight in weights.items():
                self._by_pair[pair][e.code] = weight
        # Pinyin of every word of the names, keywords, departments and synonyms (rule 4).
        words: dict[str, set[str]] = defaultdict(set)
        department_words: dict[str, list[str]] = {}
        for e in self._entries.values():
            if e.department not in department_words:
                department_words[e.department] = self._lex.index_words(e.department)
            for word in self._lex.index_words(e.name) + department_words[e.department]:
                if len(word) > 1:
                    words[word].add(e.code)
            for keyword in e.keywords:
                words[keyword].add(e.code)
        for word, found in self._keywords.items():
            words[word].update(found)
        self._spelled: dict[str, dict[str, int]] = defaultdict(dict)   # spelling → {code: score}
        self._prefixes: list[tuple[str, frozenset[str]]] = []
        for word, codes in words.items():
            if not re.search(r"[\u4e00-\u9fff]", word):
                continue
            full, initials = self._lex.pinyin(word)
            for code in codes:
                self._spelled[full][code] = 3
                if len(initials) >= MIN_INITIALS:
                    self._spelled[initials].setdefault(code, 2)
            self._prefixes.append((full, frozenset(codes)))
        self._names_spelled = [(self._lex.spelling(e.short_name), e.code)
                               for e in self._entries.values()]

    def __len__(self):
        return len(self._entries)

    def core(self, query: str) -> list[str]:
        """The words of a query that say what is wanted (fillers dropped)."""
        return [w for w in self._lex.words(normalised(query)) if w not in self.fillers]

    def rank(self, query: str) -> list[Hit]:
        """The items a query finds, best first (the module's rule)."""
        count, hits = len(self._by_position), []
        for key in self._ordered(query):
            both = -(key // count)                          # tier × _SCORES + score
            tier = (both + _SCORES // 2) // _SCORES         # scores lie within ±_SCORES / 2
            hits.append(Hit(self._by_position[key % count], tier, both - tier * _SCORES))
        return hits

    def codes(self, query: str) -> list[str]:
        """The codes of `rank`, without their reasons."""
        count = len(self._by_position)
        return [self._by_position[key % count] for key in self._ordered(query)]

    def _ordered(self, query: str) -> list[int]:
        """Every item found, best first, as one number each (integers sort fastest):
        -(tier, score) then the code's place in code order."""
        text = normalised(query)
        plain = re.sub(r"[\s']+", "", text)
        if _LATIN.fullmatch(plain) or _CODE.fullmatch(plain):
            found = [(PINYIN, self._by_pinyin(plain)), (WORDS, self._by_code(plain)),
                     (EXACT, {code: 0 for code in self._exact.get(plain, ())})]
        else:
            words = self.core(text)
            core = "".join(words)
            if not core:
                return []
            found = [(WORDS, self._by_words(words, core)),
                     (KEYWORD, {code: -rank for code, rank in
                                self._keywords.get(core, {}).items()}),
                     (EXACT, {code: 0 for code in
                              self._exact.get(core) or self._exact.get(plain, ())})]
        # Each item once, by the best rule that found it.
        count, position = len(self._by_position), self._position
        tier, scores = found[0]
        best = {code: -(tier * _SCORES + score) * count + position[code]
                for code, score in scores.items()}
        for tier, scores in found[1:]:
            for code, score in scores.items():
                key = -(tier * _SCORES + score) * count + position[code]
                if key < best.get(code, key + 1):
                    best[code] = key
        return sorted(best.values())

    # -- the rules: each gives {code: score} of the items it finds ---------------------------------
    def _by_code(self, text: str) -> dict[str, int]:
        """A code's beginning (scjg, scjg-00) finds the department's items, after exact ones."""
        if not _CODE.fullmatch(text):
            return {}
        return {code: 0 for code in self._entries if code.lower().startswith(text)}

    def _by_words(self, words: list[str], core: str) -> dict[str, int]:
        names = self._names
        if len(words) == 1:                  # the common case: one pass over the items found
            found = self._where(core, whole=True)
            for code in self._keywords.get(core, ()):
                if core in names[code]:
                    found[code] += PHRASE_IN_NAME
            return found
        scores: dict[str, int] = {}
        for index, word in enumerate(words):
            found = self._where(word)
            scores = found if index == 0 else {code: scores[code] + weight
                                               for code, weight in found.items()
                                               if code in scores}
            if not scores:
                return {}
        return {code: score + PHRASE_IN_NAME if core in names[code] else score
                for code, score in scores.items()}

    def _where(self, word: str, whole: bool = False) -> dict[str, int]:
        """The items holding a word, each with what the word counts for there (and, when the
        word is the whole query, the name's 2 more)."""
        keywords = self._keywords.get(word, ())
        if len(word) == 2:
            found = dict(self._by_pair.get(word, ()))
            if whole:
                for code, weight in found.items():
                    if weight == IN_NAME:
                        found[code] = IN_NAME + PHRASE_IN_NAME
            found.update(dict.fromkeys(keywords, AS_KEYWORD))
            return found
        found = dict.fromkeys(keywords, AS_KEYWORD)
        if len(word) == 1:
            candidates = self._by_char.get(word, _NONE)
        else:
            pairs = sorted((self._by_pair.get(word[i:i + 2], {}) for i in range(len(word) - 1)),
                           key=len)
            candidates = pairs[0].keys() & pairs[1].keys()      # the two rarest pairs
        fields = self._fields
        in_name = IN_NAME + PHRASE_IN_NAME if whole else IN_NAME
        for code in candidates:
            if code in found:
                continue
            name, keywords_text, department, description = fields[code]
            if word in name:
                found[code] = in_name
            elif word in keywords_text:
                found[code] = AS_KEYWORD
            elif word in department:
                found[code] = IN_DEPARTMENT
            elif word in description:
                found[code] = IN_DESCRIPTION
        return found

    def _by_pinyin(self, letters: str) -> dict[str, int]:
        hits: dict[str, int] = {}
        if len(letters) >= MIN_PINYIN_IN_NAME:
            hits.update((code, 1) for full, code in self._names_spelled if letters in full)
        if len(letters) >= MIN_PINYIN_PREFIX:
            for full, codes in self._prefixes:
                if full.startswith(letters):
                    hits.update(dict.fromkeys(codes, 2))
        hits.update((code, 10 * score) for code, score in self._spelled.get(letters, {}).items())
        return hits
