"""The words a texter may send instead of an answer, and which language a first text is in.

STOP, START and HELP are what carriers require; each portal language has its own words for
them, and every portal recognises the words of all its languages (a Spanish speaker on an
English-first portal can still write ALTO). The first word of each list is the one our
replies tell people to send.
"""

from __future__ import annotations

import re
import unicodedata

KEYWORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "stop": {"en": ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
             "es": ("ALTO", "PARAR", "BAJA", "CANCELAR"), "ar": ("توقف", "إيقاف", "الغاء"),
             "fr": ("ARRET", "STOP"), "pt_BR": ("PARAR", "SAIR"), "ht": ("SISPANN", "KANPE"),
             "vi": ("DUNG", "HUY"), "ko": ("중지", "취소"), "ru": ("СТОП", "ОТПИСАТЬСЯ"),
             "zh_Hans": ("停止", "退订")},
    "start": {"en": ("START", "UNSTOP"), "es": ("INICIAR", "ALTA"), "ar": ("ابدأ", "بدء"),
              "fr": ("DEMARRER", "START"), "pt_BR": ("INICIAR", "VOLTAR"),
              "ht": ("KOMANSE",), "vi": ("BATDAU",), "ko": ("시작",), "ru": ("СТАРТ",),
              "zh_Hans": ("开始",)},
    "help": {"en": ("HELP", "INFO"), "es": ("AYUDA",), "ar": ("مساعدة", "مساعده"),
             "fr": ("AIDE",), "pt_BR": ("AJUDA",), "ht": ("ED", "EDE"), "vi": ("GIUP",),
             "ko": ("도움", "도움말"), "ru": ("ПОМОЩЬ",), "zh_Hans": ("帮助",)},
}


def fold(text: str) -> str:
    """Upper case, accents and spaces gone: 'Arrêt' -> 'ARRET', 'Bắt đầu' -> 'BATDAU'."""
    decomposed = unicodedata.normalize("NFKD", text.strip().replace("đ", "d").replace("Đ", "D"))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace())
    return kept.strip(".!?¡¿،").upper()


def keyword(text: str, languages: list[str]) -> tuple[str, str] | None:
    """(`stop`|`start`|`help`, the language of the word) when the whole text is one."""
    folded = fold(text)
    if not folded or len(folded) > 20:
        return None
    for language in languages:
        for action, words in KEYWORDS.items():
            if folded in {fold(w) for w in words.get(language, ())}:
                return action, language
    for action, words in KEYWORDS.items():  # English words are carriers' words everywhere
        if folded in {fold(w) for w in words["en"]}:
            return action, languages[0]
    return None


def word(action: str, language: str) -> str:
    return KEYWORDS[action].get(language, KEYWORDS[action]["en"])[0]


_SCRIPTS = (("ar", re.compile(r"[\u0600-\u06FF]")), ("ko", re.compile(r"[\uAC00-\uD7AF]")),
            ("zh_Hans", re.compile(r"[\u4E00-\u9FFF]")), ("ru", re.compile(r"[\u0400-\u04FF]")),
            ("vi", re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]",
                              re.IGNORECASE)))
_WORDS = {
    "en": {"the", "is", "a", "on", "at", "there", "street", "near", "broken", "light", "of",
           "and", "pothole", "in", "big", "out", "front", "road", "hole"},
    "es": {"el", "la", "los", "las", "hay", "un", "una", "en", "calle", "esquina", "bache",
           "roto", "rota", "frente", "luz", "farola", "no", "funciona", "está", "del", "muy",
           "grande", "cerca", "avenida"},
    "fr": {"le", "la", "les", "il", "y", "une", "dans", "rue", "est", "nid", "poule",
           "lampadaire", "du", "des", "au", "près", "cassé", "trou"},
    "pt_BR": {"o", "na", "rua", "buraco", "tem", "uma", "não", "está", "do", "da", "perto",
              "quebrado", "poste"},
    "ht": {"gen", "nan", "lari", "yon", "li", "pa", "twou", "limyè", "kote", "bò"},
}


def detect(text: str, languages: list[str], default: str) -> str:
    """The portal language `text` is most likely in: by script, then by common words; the
    portal's default when nothing tells."""
    for language, pattern in _SCRIPTS:
        if language in languages and pattern.search(text):
            return language
    words = set(re.findall(r"\w+", text.casefold()))
    scores = {lang: len(words & _WORDS[lang]) for lang in languages if lang in _WORDS}
    best = max(scores.values(), default=0)
    leaders = [lang for lang, score in scores.items() if score == best]
    if best == 0 or len(leaders) > 1:
        return default if default in languages else languages[0]
    return leaders[0]
