#!/usr/bin/env python3
"""Reference data for ClipTokenizer, made with OpenAI CLIP's own tokenizer (clip.simple_tokenizer + clip.tokenize).

Two outputs, both committed:
  --fixture FILE   Tests/ClipTokenizerTests/Fixtures/tokens.json: >= 500 varied texts, their
                   `_tokenizer.encode(text)` ids and `clip.tokenize(texts, truncate=True)` rows.
  --tables DIR     Sources/ClipTokenizer/Generated*.swift: the Unicode and HTML tables the Swift port reads, taken
                   from the reference's own Python (html.entities.html5, str.lower, str.isspace, the `regex`
                   module's \\p{L} / \\p{N} / \\s under re.IGNORECASE, ftfy's tables), so the port does not depend on
                   the Unicode version of the Swift toolchain.

Run with the exporter venv:  .venv-export/bin/python notebooks-export/tokenizer_fixture.py --fixture ... --tables ...
Also: --measure N  counts how often ftfy's mojibake repair (fix_encoding) changes the tokens of N random texts.
"""
import argparse
import html
import html.entities
import json
import random
import sys
import unicodedata

import ftfy
import ftfy.chardata
import regex

# --- texts ------------------------------------------------------------------------------------------------------

PRODUCT_QUERIES = [
    "red running shoes", "Women's leather handbag, brown", "stainless steel water bottle 750ml",
    "4K UHD TV 55\"", "USB-C to HDMI adapter (2-pack)", "men's slim-fit chinos 32x30", "iPhone 15 Pro Max case",
    "organic green tea — 100 bags", "ergonomic office chair w/ lumbar support", "LEGO® Star Wars™ set #75257",
    "kids' rain boots size 11", "queen-size memory foam mattress", "wireless noise-cancelling headphones",
    "cast iron skillet 12-inch", "Nike Air Max 270", "a photo of a dog", "a photo of a cat sitting on a sofa",
    "vintage 1970s floor lamp", "12V 5A power supply", "AA batteries x24", "sofa bed grey 3 seater",
    "coffee table (oak) 120×60 cm", "L'Oréal Paris shampoo 400 ml", "Dr. Martens 1460 boots", "100% cotton t-shirt",
    "She'll be there; they've gone; I'm here; we'd go; it's; don't; you're", "ROCK'N'ROLL T-SHIRT",
    "rock 'n' roll", "O'Reilly's book", "rug 5'x7'", "price: $19.99 (was $29.99)", "50% off!!!",
    "email me at someone@example.com", "https://www.example.com/path?q=1&x=2", "#hashtag @mention",
    "a   lot    of     spaces", "   leading and trailing   ", "\ttabs\tand\nnewlines\r\nand CRLF\r",
    "", " ", "\n\n\n", "a", "A", "1", "!", "'s", "'S", "'ll've", "can't won't shouldn't", "9780306406157",
    "3.14159265358979323846", "v1.2.3-beta+build.42", "C++ / C# / F#", "snake_case and camelCase and PascalCase",
    "UPPERCASE TEXT ONLY", "MiXeD cAsE tExT", "a-b_c.d,e;f:g!h?i", "(((nested)))", "[brackets] {braces} <angles>",
    "Ĳssel ĳs ﬁne ﬂour ﬀ ﬃ ﬄ ﬅ ﬆ ǅ ǈ ǋ Ǳ", "naïve café résumé coöperate", "Straße groß STRASSE",
    "ﬁsh & chips", "mid-century modern sideboard", "hello<|endoftext|>world", "<|startoftext|>",
    "<|endoftext|>", "<|STARTOFTEXT|> upper", "<|ſtartoftext|>", "it'ſ long s", "<|endoftext|><|endoftext|>",
    "<|startoftext|>hi<|endoftext|>", "<| startoftext |>", "lower İstanbul ISTANBUL",
    "ΟΔΟΣ ΟΔΟΣ. Σ ΣΑ ΑΣ Α.Σ ΑΣ' ΑΣ\u0301", "Ǆ ǅ ǆ", "ὈΔΥΣΣΕΎΣ", "ʼn Afrikaans", "ΐΰ ﬀ",
    "\u0345 ypogegrammeni \u0391\u0345 \u1fb3", "K Kelvin Å Angstrom Ω Ohm", "ǰ J̌",
]

SCRIPTS = [
    "Привет, мир! Как дела?", "Γειά σου Κόσμε", "שלום עולם", "مرحبا بالعالم", "नमस्ते दुनिया", "হ্যালো বিশ্ব",
    "สวัสดีชาวโลก", "こんにちは世界", "コンピューター", "ｺﾝﾋﾟｭｰﾀｰ", "你好，世界！", "繁體中文測試", "안녕하세요 세계",
    "ᄒᆞᆫ글 옛한글", "Xin chào thế giới", "Merhaba dünya, ığüşöç", "Witaj świecie, zażółć gęślą jaźń",
    "Ahoj světe, příliš žluťoučký kůň", "Hej världen, åäö", "Tere maailm, õäöü", "ሰላም ለዓለም", "გამარჯობა",
    "Բարեւ աշխարհ", "ᐊᐃᖓᐃ", "ᚠᛇᚻ᛫ᛒᛦᚦ", "𐌰𐌱𐌲 gothic", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕓𝕠𝕝𝕕", "𝟘𝟙𝟚 math digits", "١٢٣٤٥ ۶۷۸۹",
    "१२३ ৪৫৬ ๗๘๙", "Ⅻ ⅻ ½ ¾ ² ³ ⁴ ₅", "①②③ ⑴⑵ ⒈⒉", "தமிழ் வணக்கம்", "ಕನ್ನಡ", "മലയാളം", "සිංහල",
    "ລາວ", "ខ្មែរ", "မြန်မာ", "ཀ་ཁ་ག", "ᠮᠣᠩᠭᠣᠯ", "Ꭰꭰ Cherokee ᏸ", "ΆΈΉ ώ", "Ǻǻ Ǽǽ", "e\u0301 vs é",
    "A\u030a vs Å vs Å", "\u1e9b\u0323", "한\u1100\u1161", "ḍ̇ q̣̇", "\u0958 \u0929 decomposed devanagari",
]

EMOJI = [
    "I love it ❤️", "👍🏽 thumbs up medium skin", "👨‍👩‍👧‍👦 family", "🏳️‍🌈 rainbow flag", "🇺🇸🇫🇷🇯🇵 flags",
    "👩🏿‍💻 technologist", "🧑🏻‍🤝‍🧑🏾 people holding hands", "😀😃😄😁😆😅😂🤣", "🐶🐱🐭🐹🐰🦊🐻🐼",
    "#️⃣ 1️⃣ keycaps", "🏴󠁧󠁢󠁳󠁣󠁴󠁿 scotland", "☺︎ text vs ☺️ emoji", "🤷‍♀️🤷‍♂️", "🫠🫡🫢 newer emoji",
    "great product!!! 😍😍😍 would buy again 👌", "💯🔥", "⌚⌛⏰", "🀄🃏", "✈️ ✉️ ✏️", "👁️‍🗨️",
    "❤️‍🔥 heart on fire", "🧔‍♂️ 🧔🏼‍♀️", "🫱🏻‍🫲🏿", "emoji at end 🎉", "🎉emoji at start",
]

ENTITIES = [
    "Tom &amp; Jerry", "Tom &amp Jerry", "fish &amp;amp; chips", "&amp;amp;amp;", "&lt;b&gt;bold&lt;/b&gt;",
    "5 &lt; 6", "5 < 6 &amp; 7", "a &lt; b\nc &amp; d", "x &amp; y\n<tag> &amp; z\n&eacute;", "&quot;quoted&quot;",
    "it&#39;s", "it&#x27;s", "it&#X27;s", "&#8220;curly&#8221;", "&#x201C;hex curly&#x201D;", "&#128512; grin",
    "&#x1F600;", "&#0;", "&#13;", "&#128;", "&#x80;", "&#129;", "&#141;", "&#143;", "&#144;", "&#157;", "&#159;",
    "&#150; en dash", "&#151;", "&#153;", "&#1;", "&#11;", "&#127;", "&#xD800;", "&#xDFFF;", "&#x110000;",
    "&#99999999999999999999;", "&#xFFFE;", "&#xFDD0;", "&#x10FFFF;", "&#65;&#66;&#67;", "&#65abc;", "&#x41g;",
    "&#;", "&#x;", "&# 65;", "&#65", "&#x41", "&copy 2024", "&copy; 2024", "&COPY; caps", "&Copy;", "&eacute;",
    "&EACUTE;", "P&EACUTE;REZ", "BUNDESSTRA&SZLIG;E", "&ntilde; &Ntilde; &NTILDE; &nTILDE;", "&notin; &notit;",
    "&not it", "this&not that", "&ampx", "&amp;x", "&AMP;", "&AMP", "&nbsp;non-breaking&nbsp;", "&nbsp",
    "&hellip;", "&mdash;&ndash;", "&rsquo;&lsquo;&rdquo;&ldquo;", "&euro;10", "&pound;5 &yen;6 &cent;",
    "&frac12; &frac14; &sup2;", "&Jscr;ohn &HilbertSpace;ancock", "&checkmark;", "&NotNestedGreaterGreater;",
    "&bne;", "&acE;", "&fjlig;", "&ThickSpace;", "&unknownentity;", "&unknown", "& amp;", "&&amp;;",
    "&amp;lt;script&amp;gt;", "&amp;#39;", "&amp;amp;lt;", "&lt;&lt;&lt;", "&lt", "&gt", "&GT;", "&Gt;",
    "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", "&ampaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
    "&#x0000041;", "&#00065;", "&#x20AC;&#8364;&euro;", "&Tab;tab&NewLine;nl", "&NewLine;&NewLine;x",
    "&#9;&#10;&#12;", "&#x2028;&#x2029;", "&#x202F;", "&#xFEFF;bom", "&#x1b;[31mred", "&#x0085;", "&#x2018;",
    "&#xFF21;&#xFF22;", "&#xFB01;", "&#x345;", "&#x130;", "&#931;&#931;", "A &amp;\u3000B", "&\u00e9acute;",
]

FTFY_CASES = [
    "“curly double” ‘curly single’ ‛reversed‚ „low“", "it’s", "ʼapostrophe", "‟quote‟",
    "ＬＯＵＤ　ＮＯＩＳＥＳ", "ｆｕｌｌｗｉｄｔｈ １２３ ！？", "Ｕﾀｰﾝ", "ﾊﾝｶｸ ｶﾀｶﾅ", "￠￡￥￦ ￩￪￫￬",
    "ﾟ ﾞ ｰ ･ ｡ ｢ ｣", "ﾡﾢﾣ halfwidth hangul", "line\u2028separator\u2029paragraph", "next\u0085line",
    "c1 \u0080 \u0081 \u008d \u0091quoted\u0092 \u0093dq\u0094 \u0096 \u0097 \u0099 \u009f",
    "bell\x07 backspace\x08 vt\x0b ff\x0c del\x7f esc\x1b", "\x00nul\x01soh", "\x1c\x1d\x1e\x1f seps",
    "\ufeffBOM at start", "mid\ufeffBOM", "\ufff9\ufffa\ufffb anchors \ufffc obj \ufffd repl",
    "\u206a\u206b\u206c\u206d\u206e\u206f deprecated", "zero\u200bwidth\u200cnon\u200djoiner\u2060wj",
    "rtl\u200e\u200f\u202a\u202b\u202c\u202d\u202e marks", "\x1b[31mred\x1b[0m", "\x1b[1;32;40mbold green\x1b[m",
    "\x1b[m", "\x1b[", "\x1b[12", "\x1b[٣١m arabic digits in escape", "\x1b[31;", "\x1b]0;title\x07",
    "\u00a0nbsp\u00a0", "\u2003em\u2002en\u2009thin\u200ahair\u202fnarrow\u205fmath\u3000ideo",
    "\u1680ogham\u180emvs", "tab\tafter", "\v\f\r\n mixed", "\r\r\r", "a\r\nb\rc\nd", "a\n\nb",
    "ligature ﬃ and ﬄ and ﬅ", "ŉ ǉ ǌ", "ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ", "Ǳ ǲ ǳ Ǆ ǅ ǆ Ǉ ǈ ǉ Ǌ ǋ ǌ Ĳ ĳ",
    "\u00ad soft hyphen", "\ud7ff \ue000 private \U000f0000 plane15", "\U000e0041 tag chars \U000e007f",
    "\u034f cgj \u180b fvs", "x\u0301\u0300\u0323 combining stack", "\u0300 leading combining",
    "\u2126 ohm \u212b angstrom \u212a kelvin", "\uf900\uf901 compat ideographs", "\u2fd5 radical \u3131 jamo",
    "\u1100\u1161\u11a8 jamo seq", "\u0f73 tibetan", "\u2000 \u2001", "Ⅷ ⅷ", "ǅungla", "ﬀ\u0301",
    "\u212a\u0301", "ẞ capital sharp s", "Ꞵ ꞵ", "\U0001e900 adlam \U0001e922", "\U00010400 deseret \U00010428",
    "\U000118a0 warang", "\U00016e40 medefaidrin", "\u13a0 \uab70", "\u10a0 \u2d00", "\u1c90 georgian mtavruli",
    "\u0130\u0131 dotted", "I\u0307", "\u03a3\u0345\u0301 sigma ypo", "\u03a3", "\u03a3\u03a3", "a\u03a3",
    "a\u03a3b", "a\u03a3\u00ad", "a\u00ad\u03a3", "'\u03a3'", "a\u03a3'", "Σa", "\u1f88 \u1fbc \u1fcc",
]


MOJIBAKE = [
    "cafÃ© crÃ¨me brÃ»lÃ©e", "sÃ³", "voilÃ le travail", "â€œ like this â€\ufffd", "itâ€™s great", "Ã¢â‚¬Å“quoteÃ¢â‚¬Â\x9d",
    "Ð¿Ñ€Ð¸Ð²ÐµÑ‚ Ð¼Ð¸Ñ€", "ÎºÎ±Î»Î·Î¼Î­ÏÎ±", "æ—¥æœ¬èªž", "Ã\xa0 la carte", "Ã  la carte", "naÃ¯ve rÃ©sumÃ©",
    "â€”dashâ€“", "Â£100 Â©2020", "ðŸ˜€ emoji mojibake", "cafÃ© and cafÃ©s\nsecond line Ã©", "SÃ£o Paulo",
    "ZÃ¼rich StraÃŸe", "seÃ±or niÃ±o", "Ã¶ffentlich", "\x80 euro c1", "\x93quoted\x94", "Ã©\x80", "Î©",
    "lossy â€? text", "à¤¹à¤¿à¤¨à¥\x8dà¤¦à¥€", "Ãƒ\u0192", "l\u2019Ã©tÃ©", "ÃƒÂ©", "vÃ¤lkommen", "Ã¢Ëœâ€¢",
]


def long_texts(rng: random.Random) -> list:
    words = ("the quick brown fox jumps over the lazy dog while a photo of a red car sits near a blue house "
             "with green windows and wooden doors under a cloudy sky").split()
    out = [" ".join(words * 3), " ".join(rng.choice(words) for _ in range(200)),
           "word " * 76, "word " * 75, "word " * 74, "a" * 500, "ab" * 300, "x " * 120,
           "supercalifragilisticexpialidocious " * 20, "😀" * 100, "日本語のテキスト" * 30, "&amp; " * 100,
           "1234567890" * 20, "<|endoftext|>" * 80, "!?" * 200, "ﬁ" * 90]
    for n in (20, 40, 60, 80):
        out.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz ,.'") for _ in range(n * 8)))
    return out


# Code point pools for random text: weighted towards what queries contain, with the awkward cases mixed in.
POOLS = [
    (30, [(0x20, 0x7E)]),
    (6, [(0x09, 0x0D), (0x1C, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x2000, 0x200F), (0x2028, 0x202F), (0x3000, 0x3000)]),
    (8, [(0xA1, 0x24F)]),
    (5, [(0x0300, 0x036F), (0x0345, 0x0345), (0x1AB0, 0x1AFF)]),
    (6, [(0x0370, 0x052F), (0x1F00, 0x1FFF), (0x03A3, 0x03A3)]),
    (6, [(0x0590, 0x06FF), (0x0900, 0x0DFF), (0x0E00, 0x0FFF)]),
    (6, [(0x3040, 0x30FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0x1100, 0x11FF)]),
    (6, [(0xFF00, 0xFFEF), (0xFB00, 0xFB4F), (0x0130, 0x0131), (0x01C4, 0x01CC), (0x2018, 0x201F)]),
    (6, [(0x1F300, 0x1FAFF), (0x1F1E6, 0x1F1FF), (0x1F3FB, 0x1F3FF), (0x200D, 0x200D), (0xFE0F, 0xFE0F)]),
    (5, [(0x2000, 0x2BFF), (0x2150, 0x218F), (0x2460, 0x24FF)]),
    (4, [(0x0000, 0x001F), (0x007F, 0x009F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFD), (0x206A, 0x206F), (0x1B, 0x1B)]),
    (4, [(0x10000, 0x1FFFF), (0x20000, 0x2FFFF), (0xE0000, 0xE007F)]),
    (3, [(0x0000, 0xD7FF), (0xE000, 0x10FFFF)]),
]
SNIPPETS = ["&amp;", "&lt;", "&#39;", "&#x27;", "&eacute;", "&copy", "&#128;", "&#150;", "'s", "'ll", "'t", "'re",
            "<|endoftext|>", "<|startoftext|>", "&nbsp;", "&EACUTE;", "&notin", "\x1b[31m", "\r\n", "&", "#", ";",
            "&#x1F600;", "&amp;amp;", "&quot;", "ﬁ", "Ａ", "“", "’", "İ", "Σ", "ſ"]


def random_text(rng: random.Random) -> str:
    """One random text: mostly pooled code points, sometimes whole snippets (entities, contractions, tokens)."""
    weights = [w for w, _ in POOLS]
    n = rng.choice([1, 2, 3, 5, 8, 12, 20, 40, 80])
    parts = []
    for _ in range(n):
        if rng.random() < 0.12:
            parts.append(rng.choice(SNIPPETS))
            continue
        ranges = rng.choices(POOLS, weights)[0][1]
        lo, hi = rng.choice(ranges)
        cp = rng.randint(lo, hi)
        if 0xD800 <= cp <= 0xDFFF:
            cp = 0xFFFD
        parts.append(chr(cp))
        if rng.random() < 0.25:
            parts.append(" ")
    return "".join(parts)


def random_texts(seed: int, count: int) -> list:
    rng = random.Random(seed)
    return [random_text(rng) for _ in range(count)]


def fixture_texts(seed: int) -> list:
    rng = random.Random(seed)
    texts = PRODUCT_QUERIES + SCRIPTS + EMOJI + ENTITIES + FTFY_CASES + MOJIBAKE + long_texts(rng)
    texts += random_texts(seed + 1, 300)
    return texts


# --- reference ----------------------------------------------------------------------------------------------------

NFC_POOLS = [(0x41, 0x7A), (0xC0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x1F00, 0x1FFF), (0x0900, 0x0DFF),
             (0x1100, 0x11FF), (0xAC00, 0xD7A3), (0x3099, 0x309A), (0x304B, 0x30FF), (0x0591, 0x05C7),
             (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0x1D15E, 0x1D1C0), (0xF900, 0xFAFF),
             (0x2126, 0x212B), (0x0340, 0x0344), (0x0F71, 0x0F81), (0x110000 - 0x10000, 0x10FFFF), (0xE0000, 0xE007F),
             (0x11000, 0x11FFF), (0x16F00, 0x16FFF), (0x1E000, 0x1E8FF), (0x0, 0xD7FF), (0xE000, 0x10FFFF)]


def nfc_cases(seed: int, count: int) -> list:
    """Random strings dense in marks, jamo, composition exclusions and newer code points, with their NFC."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        s = "".join(chr(rng.randint(*rng.choice(NFC_POOLS))) for _ in range(rng.randint(1, 12)))
        s = "".join(c for c in s if not 0xD800 <= ord(c) <= 0xDFFF)
        cases.append([s, unicodedata.normalize("NFC", s)])
    return cases


def reference_tokens(texts: list) -> tuple:
    import clip  # imports torch: exporter venv only
    from clip.simple_tokenizer import SimpleTokenizer
    tok = SimpleTokenizer()
    encoded = [tok.encode(t) for t in texts]
    rows = clip.tokenize(texts, context_length=77, truncate=True).tolist()
    return encoded, rows


def encode_without_mojibake_repair(texts: list) -> list:
    """SimpleTokenizer.encode with ftfy.fix_text(text, fix_encoding=False): marks the texts mojibake repair changes."""
    from clip import simple_tokenizer
    tok = simple_tokenizer.SimpleTokenizer()
    original = ftfy.fix_text
    simple_tokenizer.ftfy.fix_text = lambda s: original(s, fix_encoding=False)
    try:
        return [tok.encode(t) for t in texts]
    finally:
        simple_tokenizer.ftfy.fix_text = original


def write_fixture(path: str, seed: int) -> None:
    import clip
    import torch
    texts = fixture_texts(seed)
    encoded, rows = reference_tokens(texts)
    plain = encode_without_mojibake_repair(texts)
    doc = {
        "provenance": {
            "command": "notebooks-export/tokenizer_fixture.py --fixture " + path + " --seed " + str(seed),
            "reference": "clip.tokenize(texts, context_length=77, truncate=True); SimpleTokenizer().encode(text)",
            "python": sys.version.split()[0], "unicodedata": unicodedata.unidata_version,
            "clip-anytorch": _version("clip-anytorch"), "ftfy": ftfy.__version__, "regex": regex.__version__,
            "torch": torch.__version__, "seed": seed,
        },
        "context_length": 77,
        "note": "cases with \"mojibake\": true are texts ftfy's fix_encoding changes; their "
                "\"encode_without_fix_encoding\" is SimpleTokenizer.encode with fix_text(fix_encoding=False)",
        "nfc": nfc_cases(seed + 2, 3000),
        "cases": [dict({"text": t, "encode": e, "tokens": r},
                       **({"mojibake": True, "encode_without_fix_encoding": p} if p != e else {}))
                  for t, e, r, p in zip(texts, encoded, rows, plain)],
    }
    with open(path, "w", encoding="ascii") as f:
        json.dump(doc, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(texts)} cases to {path}; fix_encoding changes the ids of "
          f"{sum(p != e for p, e in zip(plain, encoded))}")


def _version(dist: str) -> str:
    from importlib.metadata import version
    return version(dist)


# --- tables --------------------------------------------------------------------------------------------------------

def _ranges(pred) -> list:
    out, start = [], None
    for cp in range(0x110001):
        ok = cp <= 0x10FFFF and not (0xD800 <= cp <= 0xDFFF) and pred(chr(cp))
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            # surrogates never occur in the input, so a class may run across them
            if 0xD800 <= cp <= 0xDFFF:
                continue
            out.append((start, cp - 1))
            start = None
    return out


def _hexes(s: str) -> str:
    return ".".join("%X" % ord(c) for c in s)


def _swift_lines(name: str, doc: str, lines: list, per_line: int = 12) -> str:
    body = "\n".join(" ".join(lines[i:i + per_line]) for i in range(0, len(lines), per_line))
    return f"    /// {doc}\n    static let {name} = \"\"\"\n{body}\n\"\"\"\n"


def _sigma_class(c: str) -> int:
    """CPython's handle_capital_sigma skips Case_Ignorable characters, then asks whether the next is Cased.
    Probed through str.lower(): 2 = cased (and not ignorable), 1 = case-ignorable, 0 = neither."""
    if (c + "\u03a3").lower()[-1] == "\u03c2":      # final after c alone: c stops the scan and is cased
        return 2
    if ("A" + c + "\u03a3").lower()[-1] == "\u03c2":  # final after "A" + c: the scan went through c
        return 1
    return 0


def _check_classes_partition() -> None:
    """The Swift side derives `[^\\s\\p{L}\\p{N}]` as the complement of the other tables: check that holds."""
    flags = regex.IGNORECASE
    pats = [regex.compile(p, flags) for p in (r"[\p{L}]", r"[\p{N}]", r"[^\s\p{L}\p{N}]", r"\s")]
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        hits = sum(bool(p.match(chr(cp))) for p in pats)
        assert hits == 1 or (hits == 0 and cp == 0x345), f"U+{cp:04X} is in {hits} classes"


def _pattern_atoms(items) -> list:
    """A parsed `re` alternative as atoms for PatternSet.swift: `Lhex` literal, `.` any but newline, `^` start,
    `?atom` optional, `[lo-hi,…,s,w]` / `[!…]` sets (s = \\s, w = \\w); fixed repeats are written out."""
    import re._parser as sre
    out = []
    for op, av in items:
        op = str(op)
        if op == "LITERAL":
            out.append("L%X" % av)
        elif op == "ANY":
            out.append(".")
        elif op == "AT":
            assert str(av) == "AT_BEGINNING", av
            out.append("^")
        elif op == "IN":
            parts, negate = [], False
            for o, a in av:
                o = str(o)
                if o == "NEGATE":
                    negate = True
                elif o == "LITERAL":
                    parts.append("%X-%X" % (a, a))
                elif o == "RANGE":
                    parts.append("%X-%X" % a)
                elif o == "CATEGORY":
                    parts.append({"CATEGORY_SPACE": "s", "CATEGORY_WORD": "w"}[str(a)])
                else:
                    raise ValueError(o)
            out.append("[" + ("!" if negate else "") + ",".join(parts) + "]")
        elif op == "MAX_REPEAT":
            lo, hi, body = av
            atoms = _pattern_atoms(body)
            assert len(atoms) == 1, body
            if (lo, hi) == (0, 1):
                out.append("?" + atoms[0])
            else:
                assert lo == hi, av
                out.extend(atoms * lo)
        else:
            raise ValueError(op)
    return out


def _pattern_lines(pattern) -> list:
    """One line per top-level alternative of a compiled `re` pattern (str or bytes)."""
    import re._parser as sre
    tree = sre.parse(pattern.pattern, pattern.flags)
    if len(tree) == 1 and str(tree[0][0]) == "BRANCH":
        return [" ".join(_pattern_atoms(alt)) for alt in tree[0][1][1]]
    return [" ".join(_pattern_atoms(list(tree)))]


def write_mojibake_tables(directory: str, head: str) -> None:
    """ftfy's mojibake detector and repair data: badness patterns, UTF-8 clue sets, the ten charmaps."""
    import re
    import re._parser as sre
    from ftfy import badness, chardata, fixes
    word = re.compile(r"\w")
    sets = {}
    for key in ("utf8_first_of_2", "utf8_first_of_3", "utf8_first_of_4", "utf8_continuation",
                "utf8_continuation_strict"):
        sets[key] = _pattern_atoms(sre.parse("[" + chardata.UTF8_CLUES[key] + "]", re.VERBOSE))[0]
    # UTF8_DETECTOR_RE must be (?<![strict])([f2][c]|[f3][c]{2}|[f4][c]{3})+ over these sets.
    tree = sre.parse(chardata.UTF8_DETECTOR_RE.pattern, chardata.UTF8_DETECTOR_RE.flags)
    assert str(tree[0][0]) == "ASSERT_NOT" and _pattern_atoms(tree[0][1][1]) == [sets["utf8_continuation_strict"]]
    charmaps = []
    for enc in chardata.CHARMAP_ENCODINGS:
        table = [bytes([b]).decode(enc) for b in range(256)]
        assert all(len(c) == 1 for c in table) and len(set(table)) == 256, enc
        image = set(table)
        rx = chardata.ENCODING_REGEXES[enc]
        for cp in range(0x110000):  # possible_encoding(text, enc) == every character is in the table
            if not 0xD800 <= cp <= 0xDFFF:
                assert bool(rx.match(chr(cp))) == (chr(cp) in image), (enc, cp)
        charmaps.append(enc + ":" + ".".join("%X" % ord(c) for c in table))
    src = head + (
        "// ftfy's mojibake detection and repair data (ftfy/badness.py, ftfy/chardata.py, ftfy/fixes.py), the\n"
        "// regular expressions as alternatives of atoms (see PatternSet.swift), made by re._parser from ftfy's own.\n"
        "enum ReferenceMojibake {\n"
        + _swift_lines("badness", "badness.BADNESS_RE, one alternative per line.", _pattern_lines(badness.BADNESS_RE), 1)
        + _swift_lines("utf8Clues", "chardata.UTF8_CLUES sets: first_of_2, first_of_3, first_of_4, continuation, "
                       "continuation_strict.", [sets[k] for k in sets], 1)
        + _swift_lines("alteredUTF8", "chardata.ALTERED_UTF8_RE (bytes).", _pattern_lines(chardata.ALTERED_UTF8_RE), 1)
        + _swift_lines("lossyUTF8", "chardata.LOSSY_UTF8_RE (bytes).", _pattern_lines(chardata.LOSSY_UTF8_RE), 1)
        + _swift_lines("charmaps", "chardata.CHARMAP_ENCODINGS in order: `name:` and the 256 code points bytes "
                       "0x00–0xFF decode to.", charmaps, 1)
        + _swift_lines("wordRanges", "Python `re`'s `\\w` (str.isalnum() or '_').",
                       ["%X-%X" % r for r in _ranges(lambda c: bool(word.match(c)))])
        + "}\n")
    assert re.compile(r"\s").pattern and all(bool(re.match(r"\s", chr(c))) == chr(c).isspace() for c in range(0x3001))
    assert fixes.A_GRAVE_WORD_RE.pattern == b"\xc3 (?! |quele|quela|quilo|s )"
    with open(directory + "/GeneratedMojibakeTables.swift", "w", encoding="utf-8") as f:
        f.write(src)


def write_tables(directory: str) -> None:
    flags = regex.IGNORECASE
    _check_classes_partition()
    letter = regex.compile(r"[\p{L}]", flags)
    number = regex.compile(r"[\p{N}]", flags)
    other = regex.compile(r"[^\s\p{L}\p{N}]", flags)
    space = regex.compile(r"\s")
    import re
    decimal = re.compile(r"\d")
    head = ("// GENERATED by notebooks-export/tokenizer_fixture.py --tables; do not edit.\n"
            f"// Source: Python {sys.version.split()[0]} (unicodedata {unicodedata.unidata_version}), "
            f"regex {regex.__version__}, ftfy {ftfy.__version__}.\n")
    rng = lambda rs: ["%X-%X" % r for r in rs]
    lower = ["%X:%s" % (cp, _hexes(chr(cp).lower())) for cp in range(0x110000)
             if not (0xD800 <= cp <= 0xDFFF) and chr(cp).lower() != chr(cp)]
    decompositions, compositions = [], []
    for cp in range(0x110000):
        d = unicodedata.decomposition(chr(cp)) if not (0xD800 <= cp <= 0xDFFF) else ""
        if d and not d.startswith("<"):
            parts = [int(x, 16) for x in d.split()]
            decompositions.append("%X:%s" % (cp, ".".join("%X" % x for x in parts)))
            if len(parts) == 2 and unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(cp):
                compositions.append("%X.%X:%X" % (parts[0], parts[1], cp))
    classes, run = [], None
    for cp in range(0x110001):
        ccc = unicodedata.combining(chr(cp)) if cp < 0x110000 and not (0xD800 <= cp <= 0xDFFF) else 0
        if run and (ccc != run[2] or cp != run[1] + 1):
            classes.append("%X-%X:%X" % tuple(run))
            run = None
        if ccc:
            run = [run[0], cp, ccc] if run else [cp, cp, ccc]
    unicode_src = head + (
        "// What simple_tokenizer.py's regex, str.lower and str.strip see, per code point, as the reference computes it.\n"
        "enum ReferenceUnicode {\n"
        + _swift_lines("letterRanges", "`[\\p{L}]` under re.IGNORECASE (the `regex` module), as hex ranges.",
                       rng(_ranges(lambda c: bool(letter.match(c)))))
        + _swift_lines("numberRanges", "`[\\p{N}]` under re.IGNORECASE.", rng(_ranges(lambda c: bool(number.match(c)))))
        + _swift_lines("noneRanges", "Code points no alternative matches under re.IGNORECASE (U+0345: its case "
                       "fold is a letter); `[^\\s\\p{L}\\p{N}]` is every code point in none of these tables.",
                       rng(_ranges(lambda c: not (letter.match(c) or number.match(c) or other.match(c)
                                                  or space.match(c)))))
        + _swift_lines("regexSpaceRanges", "`\\s` in the `regex` module.", rng(_ranges(lambda c: bool(space.match(c)))))
        + _swift_lines("pythonSpaceRanges", "str.isspace(), the set str.strip() removes.",
                       rng(_ranges(lambda c: c.isspace())))
        + _swift_lines("decimalRanges", "Python `re`'s `\\d` (what ftfy's terminal-escape pattern accepts as a digit).",
                       rng(_ranges(lambda c: bool(decimal.match(c)))))
        + _swift_lines("caseIgnorableRanges", "Case_Ignorable as CPython's final-sigma rule sees it "
                       "(probed through str.lower()).", rng(_ranges(lambda c: _sigma_class(c) == 1)))
        + _swift_lines("casedRanges", "Cased and not Case_Ignorable, as CPython's final-sigma rule sees it.",
                       rng(_ranges(lambda c: _sigma_class(c) == 2)))
        + _swift_lines("canonicalDecompositions", "unicodedata.decomposition() where canonical: `cp:a.b` "
                       "(one level; Hangul syllables are algorithmic).", decompositions, 10)
        + _swift_lines("combiningClasses", "unicodedata.combining() where nonzero: `lo-hi:class` (hex).", classes, 10)
        + _swift_lines("compositions", "Primary composites: `a.b:c` where NFC(a + b) == c.", compositions, 10)
        + _swift_lines("lowerMap", "str.lower() of single code points where it changes them: `cp:lower.lower`.",
                       lower, 10)
        + "}\n")
    with open(directory + "/GeneratedUnicodeTables.swift", "w", encoding="utf-8") as f:
        f.write(unicode_src)

    html5 = ["%s\t%s" % (name, _hexes(value)) for name, value in sorted(html.entities.html5.items())]
    extras = []
    for key, value in sorted(ftfy.chardata.HTML_ENTITIES.items()):
        name = key[1:]
        if html.entities.html5.get(name) != value:
            extras.append("%s\t%s" % (name, _hexes(value)))
    width = ["%X:%s" % (cp, _hexes(v)) for cp, v in sorted(ftfy.chardata.WIDTH_MAP.items())]
    ligatures = ["%X:%s" % (cp, _hexes(v)) for cp, v in sorted(ftfy.chardata.LIGATURES.items())]
    html_src = head + (
        "// HTML entities: Python's html.entities.html5 (what html.unescape uses) and ftfy's all-caps additions.\n"
        "// ftfy's width and ligature maps (ftfy.chardata.WIDTH_MAP, LIGATURES).\n"
        "enum ReferenceTextTables {\n"
        + _swift_lines("html5", "html.entities.html5: `name<TAB>code.points`, one per line (names keep their ';').",
                       html5, 1)
        + _swift_lines("ftfyUppercaseEntities",
                       "ftfy.chardata.HTML_ENTITIES entries not in html5 (all-caps names like EACUTE;).", extras, 1)
        + _swift_lines("widthMap", "ftfy.chardata.WIDTH_MAP: `cp:replacement`.", width, 10)
        + _swift_lines("ligatures", "ftfy.chardata.LIGATURES: `cp:replacement`.", ligatures, 10)
        + "}\n")
    with open(directory + "/GeneratedTextTables.swift", "w", encoding="utf-8") as f:
        f.write(html_src)
    write_mojibake_tables(directory, head)
    print(f"wrote tables to {directory}: {len(lower)} lowercase entries, {len(html5)} html5 entities, "
          f"{len(extras)} ftfy extras, {len(width)} width entries")


def measure_mojibake(count: int, seed: int) -> None:
    """How often ftfy's fix_encoding (the hardest part of ftfy to reproduce) changes the tokens of random texts."""
    from clip.simple_tokenizer import SimpleTokenizer
    tok = SimpleTokenizer()
    texts = random_texts(seed, count)
    changed_text = changed_tokens = 0
    examples = []
    plain = encode_without_mojibake_repair(texts)
    for t, b_ids in zip(texts, plain):
        a, b = ftfy.fix_text(t), ftfy.fix_text(t, fix_encoding=False)
        if a != b:
            changed_text += 1
            if tok.encode(t) != b_ids:
                changed_tokens += 1
                if len(examples) < 5:
                    examples.append((t, a, b))
    print(f"random texts: {count} (seed {seed}); fix_encoding changed the text of {changed_text}, "
          f"the tokens of {changed_tokens}")
    for t, a, b in examples:
        print("  example:", ascii(t), "->", ascii(a), "instead of", ascii(b))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fixture", help="write the token fixture JSON here")
    p.add_argument("--tables", help="write the generated Swift tables into this directory")
    p.add_argument("--measure", type=int, default=0, help="measure fix_encoding's effect on N random texts")
    p.add_argument("--seed", type=int, default=20241125)
    a = p.parse_args()
    if a.tables:
        write_tables(a.tables)
    if a.fixture:
        write_fixture(a.fixture, a.seed)
    if a.measure:
        measure_mojibake(a.measure, a.seed)
    if not (a.tables or a.fixture or a.measure):
        p.error("pass --fixture FILE, --tables DIR and/or --measure N")


if __name__ == "__main__":
    main()
