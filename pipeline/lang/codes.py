"""Language codes and English names for every label the model knows (``lang_Script``).

``code`` is ISO 639-1 where one exists, else ISO 639-3. Individual languages inside a
macrolanguage that has a 639-1 code take that code when they are its usual standard
form (Western Persian ``pes`` -> ``fa``, Standard Malay ``zsm`` -> ``ms``).

Varieties that detectors and users treat as one language are folded into it, and
the variety goes to ``Language.variant``: every Arabic dialect reports ``ar`` (the
issue's rule), and Dari (``prs``, Afghan Persian) reports ``fa`` with variant
``prs``, the way ISO 639 (``fa`` is the macrolanguage of ``pes`` and ``prs``), CLD2
and fastText's lid.176 all treat it.
"""

from __future__ import annotations

from typing import NamedTuple


class LangInfo(NamedTuple):
    """Public identity of a model label."""

    code: str
    name: str
    script: str


# Arabic varieties in Flores/SIB-200: all reported as ``ar``, dialect as variant.
ARABIC_VARIANTS: dict[str, str] = {
    "arb": "Modern Standard Arabic",
    "acm": "Mesopotamian Arabic",
    "acq": "Ta'izzi-Adeni Arabic",
    "aeb": "Tunisian Arabic",
    "ajp": "South Levantine Arabic",
    "apc": "North Levantine Arabic",
    "ars": "Najdi Arabic",
    "ary": "Moroccan Arabic",
    "arz": "Egyptian Arabic",
}

# ISO 639-3 (as used by Flores) -> (reported code, English name)
_CODES: dict[str, tuple[str, str]] = {
    "ace": ("ace", "Acehnese"), "afr": ("af", "Afrikaans"), "aka": ("ak", "Akan"),
    "als": ("sq", "Albanian"), "amh": ("am", "Amharic"), "asm": ("as", "Assamese"),
    "ast": ("ast", "Asturian"), "awa": ("awa", "Awadhi"), "ayr": ("ay", "Aymara"),
    "azb": ("azb", "South Azerbaijani"), "azj": ("az", "Azerbaijani"), "bak": ("ba", "Bashkir"),
    "bam": ("bm", "Bambara"), "ban": ("ban", "Balinese"), "bel": ("be", "Belarusian"),
    "bem": ("bem", "Bemba"), "ben": ("bn", "Bengali"), "bho": ("bho", "Bhojpuri"),
    "bjn": ("bjn", "Banjar"), "bod": ("bo", "Tibetan"), "bos": ("bs", "Bosnian"),
    "bug": ("bug", "Buginese"), "bul": ("bg", "Bulgarian"), "cat": ("ca", "Catalan"),
    "ceb": ("ceb", "Cebuano"), "ces": ("cs", "Czech"), "cjk": ("cjk", "Chokwe"),
    "ckb": ("ckb", "Central Kurdish (Sorani)"), "crh": ("crh", "Crimean Tatar"), "cym": ("cy", "Welsh"),
    "dan": ("da", "Danish"), "deu": ("de", "German"), "dik": ("dik", "Southwestern Dinka"),
    "dyu": ("dyu", "Dyula"), "dzo": ("dz", "Dzongkha"), "ell": ("el", "Greek"),
    "eng": ("en", "English"), "epo": ("eo", "Esperanto"), "est": ("et", "Estonian"),
    "eus": ("eu", "Basque"), "ewe": ("ee", "Ewe"), "fao": ("fo", "Faroese"),
    "fij": ("fj", "Fijian"), "fin": ("fi", "Finnish"), "fon": ("fon", "Fon"),
    "fra": ("fr", "French"), "fur": ("fur", "Friulian"), "fuv": ("fuv", "Nigerian Fulfulde"),
    "gaz": ("om", "Oromo"), "gla": ("gd", "Scottish Gaelic"), "gle": ("ga", "Irish"),
    "glg": ("gl", "Galician"), "grn": ("gn", "Guarani"), "guj": ("gu", "Gujarati"),
    "hat": ("ht", "Haitian Creole"), "hau": ("ha", "Hausa"), "heb": ("he", "Hebrew"),
    "hin": ("hi", "Hindi"), "hne": ("hne", "Chhattisgarhi"), "hrv": ("hr", "Croatian"),
    "hun": ("hu", "Hungarian"), "hye": ("hy", "Armenian"), "ibo": ("ig", "Igbo"),
    "ilo": ("ilo", "Ilocano"), "ind": ("id", "Indonesian"), "isl": ("is", "Icelandic"),
    "ita": ("it", "Italian"), "jav": ("jv", "Javanese"), "jpn": ("ja", "Japanese"),
    "kab": ("kab", "Kabyle"), "kac": ("kac", "Jingpho"), "kam": ("kam", "Kamba"),
    "kan": ("kn", "Kannada"), "kas": ("ks", "Kashmiri"), "kat": ("ka", "Georgian"),
    "kaz": ("kk", "Kazakh"), "kbp": ("kbp", "Kabiye"), "kea": ("kea", "Kabuverdianu"),
    "khk": ("mn", "Mongolian"), "khm": ("km", "Khmer"), "kik": ("ki", "Kikuyu"),
    "kin": ("rw", "Kinyarwanda"), "kir": ("ky", "Kyrgyz"), "kmb": ("kmb", "Kimbundu"),
    "kmr": ("kmr", "Northern Kurdish (Kurmanji)"), "knc": ("knc", "Central Kanuri"),
    "kon": ("kg", "Kikongo"), "kor": ("ko", "Korean"), "lao": ("lo", "Lao"),
    "lij": ("lij", "Ligurian"), "lim": ("li", "Limburgish"), "lin": ("ln", "Lingala"),
    "lit": ("lt", "Lithuanian"), "lmo": ("lmo", "Lombard"), "ltg": ("ltg", "Latgalian"),
    "ltz": ("lb", "Luxembourgish"), "lua": ("lua", "Luba-Kasai"), "lug": ("lg", "Ganda"),
    "luo": ("luo", "Luo"), "lus": ("lus", "Mizo"), "lvs": ("lv", "Latvian"),
    "mag": ("mag", "Magahi"), "mai": ("mai", "Maithili"), "mal": ("ml", "Malayalam"),
    "mar": ("mr", "Marathi"), "min": ("min", "Minangkabau"), "mkd": ("mk", "Macedonian"),
    "mlt": ("mt", "Maltese"), "mni": ("mni", "Meitei (Manipuri)"), "mos": ("mos", "Mossi"),
    "mri": ("mi", "Maori"), "mya": ("my", "Burmese"), "nld": ("nl", "Dutch"),
    "nno": ("nn", "Norwegian Nynorsk"), "nob": ("nb", "Norwegian Bokmal"), "npi": ("ne", "Nepali"),
    "nqo": ("nqo", "N'Ko"), "nso": ("nso", "Northern Sotho"), "nus": ("nus", "Nuer"),
    "nya": ("ny", "Chichewa"), "oci": ("oc", "Occitan"), "ory": ("or", "Odia"),
    "pag": ("pag", "Pangasinan"), "pan": ("pa", "Punjabi"), "pap": ("pap", "Papiamento"),
    "pbt": ("ps", "Pashto"), "pes": ("fa", "Persian"), "plt": ("mg", "Malagasy"),
    "pol": ("pl", "Polish"), "por": ("pt", "Portuguese"), "prs": ("prs", "Dari"),
    "quy": ("qu", "Quechua"), "ron": ("ro", "Romanian"), "run": ("rn", "Kirundi"),
    "rus": ("ru", "Russian"), "sag": ("sg", "Sango"), "san": ("sa", "Sanskrit"),
    "sat": ("sat", "Santali"), "scn": ("scn", "Sicilian"), "shn": ("shn", "Shan"),
    "sin": ("si", "Sinhala"), "slk": ("sk", "Slovak"), "slv": ("sl", "Slovenian"),
    "smo": ("sm", "Samoan"), "sna": ("sn", "Shona"), "snd": ("sd", "Sindhi"),
    "som": ("so", "Somali"), "sot": ("st", "Southern Sotho"), "spa": ("es", "Spanish"),
    "srd": ("sc", "Sardinian"), "srp": ("sr", "Serbian"), "ssw": ("ss", "Swati"),
    "sun": ("su", "Sundanese"), "swe": ("sv", "Swedish"), "swh": ("sw", "Swahili"),
    "szl": ("szl", "Silesian"), "tam": ("ta", "Tamil"), "taq": ("taq", "Tamasheq"),
    "tat": ("tt", "Tatar"), "tel": ("te", "Telugu"), "tgk": ("tg", "Tajik"),
    "tgl": ("tl", "Tagalog"), "tha": ("th", "Thai"), "tir": ("ti", "Tigrinya"),
    "tpi": ("tpi", "Tok Pisin"), "tsn": ("tn", "Tswana"), "tso": ("ts", "Tsonga"),
    "tuk": ("tk", "Turkmen"), "tum": ("tum", "Tumbuka"), "tur": ("tr", "Turkish"),
    "twi": ("tw", "Twi"), "tzm": ("tzm", "Central Atlas Tamazight"), "uig": ("ug", "Uyghur"),
    "ukr": ("uk", "Ukrainian"), "umb": ("umb", "Umbundu"), "urd": ("ur", "Urdu"),
    "uzn": ("uz", "Uzbek"), "vec": ("vec", "Venetian"), "vie": ("vi", "Vietnamese"),
    "war": ("war", "Waray"), "wol": ("wo", "Wolof"), "xho": ("xh", "Xhosa"),
    "ydd": ("yi", "Yiddish"), "yor": ("yo", "Yoruba"), "yue": ("yue", "Cantonese"),
    "zho": ("zh", "Chinese"), "zsm": ("ms", "Malay"), "zul": ("zu", "Zulu"),
}
_CODES.update({k: ("ar", "Arabic") for k in ARABIC_VARIANTS})
_CODES["prs"] = ("fa", "Persian")

# variety -> (reported code, is it the unmarked standard form?)
VARIANTS: dict[str, tuple[str, bool]] = {k: ("ar", k == "arb") for k in ARABIC_VARIANTS}
VARIANTS.update({"pes": ("fa", True), "prs": ("fa", False)})


def label_info(label: str) -> LangInfo:
    """Code, English name and script of a model label such as ``pes_Arab``."""
    lang, _, script = label.partition("_")
    code, name = _CODES.get(lang, (lang, lang))
    return LangInfo(code, name, script or "Zyyy")


def expected_code(folder: str) -> str:
    """The code a correct answer has for an evaluation folder (Arabic dialects count as ``ar``)."""
    return label_info(folder).code


def arabic_variant(label: str) -> str | None:
    """The ISO 639-3 dialect code of an Arabic label (``arz_Arab`` -> ``arz``), else None."""
    lang = label.partition("_")[0]
    return lang if lang in ARABIC_VARIANTS else None


def variety(label: str) -> str | None:
    """The ISO 639-3 variety of a folded label (``arz_Arab`` -> ``arz``, ``prs_Arab`` -> ``prs``)."""
    lang = label.partition("_")[0]
    return lang if lang in VARIANTS else None


def is_standard_variety(variety_code: str) -> bool:
    """True for the unmarked form of a folded language (MSA ``arb``, Iranian Persian ``pes``)."""
    return VARIANTS.get(variety_code, ("", True))[1]


def name_of(code: str) -> str:
    """English name for a reported code (or for any ISO 639-3 code the model knows)."""
    for reported, name in _CODES.values():
        if reported == code:
            return name
    return _CODES.get(code, (code, code))[1]


def normalise_hint(hint: str | None) -> str | None:
    """A producer's language hint as a reported code: ``'ar-EG'``, ``'ara'``, ``'AR'`` -> ``'ar'``."""
    if not hint:
        return None
    base = hint.strip().replace("_", "-").split("-")[0].lower()
    if not base:
        return None
    if base in {"ara"}:
        return "ar"
    if base in {"fas", "per"}:
        return "fa"
    if base in _CODES:
        return _CODES[base][0]
    return base
