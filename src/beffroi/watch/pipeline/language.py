"""Language detection with py3langid (langid.py's model, shipped in the package).

Chosen because it ships its model (no download at run time), needs only NumPy, classifies
about 25,000 short posts per second on one core, and can be restricted to the languages
that matter in France and in the CrisisLex events, which makes short posts more accurate.

Two corrections for short posts, measured on CrisisLexT26 (docs/decisions/pipeline.md):

- langid scores byte n-grams and tempers them by the text's length, so a post of a few words
  gets a flat distribution where Tagalog, Indonesian or Haitian Creole often edge out
  English ("Stay safe, Alberta. #ABflood": tl 0.45, en 0.24). The detector multiplies the
  expected languages' probabilities by a prior weight (French and English by default: what
  a French watch room mostly reads) before choosing. A long post's evidence outweighs it; a
  short one is read as an expected language unless another clearly fits better.
- Shouting ("POLICE CALLING FOR IMMEDIATE EVACUATION #bigwet") has n-grams of no language.
  langid lowercases a text only when all of it is upper case, which one lower-case hashtag
  defeats: a text mostly in capitals is lowercased here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np

from beffroi.watch.pipeline.model import Enriched

DEFAULT_LANGUAGES = (
    "fr", "en", "es", "it", "de", "nl", "pt", "ca", "eu", "br", "oc", "ht", "gcf", "ar", "tr",
    "ru", "uk", "pl", "ro", "tl", "id", "ja", "zh",
)  # fmt: skip
# Fewer letters than this and the detector is guessing: trust the platform's hint.
MIN_LETTERS = 12
MIN_PROBABILITY = 0.5
# Languages a post is expected in, absent other evidence, and how much more likely they are.
# 3 was the best of 1-16 on CrisisLexT26's English events without costing the others.
EXPECTED_LANGUAGES = ("fr", "en")
PRIOR_WEIGHT = 3.0
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@cache
def _identifier(languages: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(languages))
    return ident


class LanguageDetector:
    def __init__(
        self,
        languages: tuple[str, ...] = DEFAULT_LANGUAGES,
        *,
        expected: tuple[str, ...] = EXPECTED_LANGUAGES,
        prior: float = PRIOR_WEIGHT,
    ) -> None:
        if not prior > 0:
            raise ValueError(f"prior weight must be positive, got {prior}")
        self.languages = tuple(languages)
        self.expected = tuple(lang for lang in expected if lang in self.languages)
        self.prior = float(prior)
        self._ident = _identifier(self.languages)
        # One weight per column of the restricted model, in its order.
        self._weights = np.array(
            [self.prior if c in self.expected else 1.0 for c in self._ident.nb_classes],
            dtype=np.float32,
        )

    def detect(self, text: str) -> tuple[str, float]:
        return self._detect(text, _LETTERS.findall(text))

    def _detect(self, text: str, letters: list[str]) -> tuple[str, float]:
        if letters and sum(map(str.isupper, letters)) * 2 > len(letters):
            text = text.lower()
        # _decide is classify() without the argmax: the normalised probabilities, one per
        # column. py3langid is pinned below 0.5 in pyproject, and the tests cover this call.
        scores = self._ident._decide(text) * self._weights
        i = int(scores.argmax())
        total = float(scores.sum())
        return str(self._ident.nb_classes[i]), (float(scores[i]) / total if total > 0 else 0.0)

    def __call__(self, items: list[Enriched]) -> list[Enriched]:
        for item in items:
            text = item.clean_text or item.text
            hint = (item.post.lang or "").split("-")[0].lower() or None
            # The first 300 characters say the language as well as the whole text.
            head = text[:300]
            letters = _LETTERS.findall(head)
            if len(letters) < MIN_LETTERS:
                item.lang, item.lang_p, item.lang_from = (
                    (hint, 1.0, "hint") if hint else ("und", 0.0, "none")
                )
                continue
            lang, p = self._detect(head, letters)
            if p < MIN_PROBABILITY and hint:
                item.lang, item.lang_p, item.lang_from = hint, p, "hint"
            else:
                item.lang, item.lang_p, item.lang_from = lang, p, "detected"
        return items


def detect_languages(items: list[Enriched]) -> list[Enriched]:
    return LanguageDetector()(items)
