// BERT's WordPiece tokenizer (engine/tokenizer): hand-checked tokenisations against the real
// uncased vocabulary (data/wordpiece/bert-base-uncased-vocab.txt; an id is the line number that
// `grep -nxF TOKEN` prints, minus 1), a naive step-by-step reference on random strings, the
// framing with segment ids and truncation, and the vocabulary's errors with their exact messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <utf8proc.h>

#include "test_support.hpp"
#include "tokenizer/wordpiece.hpp"
#include "transcode/errors.hpp"

using namespace transcode;
using namespace transcode::engine;

namespace {

const std::string bert_vocab_file = TRANSCODE_SOURCE_DIR "/data/wordpiece/bert-base-uncased-vocab.txt";

const WordPieceTokenizer& bert() {
    static const WordPieceTokenizer t(Vocabulary::load(bert_vocab_file));
    return t;
}

std::vector<std::string> pieces(const WordPieceTokenizer& t, const std::string& text) {
    std::vector<std::string> out;
    for (const auto id : t.tokenize(text)) out.push_back(t.vocabulary().token(id));
    return out;
}

using Pieces = std::vector<std::string>;

// --- the naive reference: BERT's tokenization.py step by step, whole-string passes over code
// points, NFD of each whole word by utf8proc_NFD, and WordPiece by trying every prefix.
namespace naive {

std::u32string decode(const std::string& s) {
    std::u32string out;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    utf8proc_ssize_t i = 0, n = static_cast<utf8proc_ssize_t>(s.size());
    while (i < n) {
        utf8proc_int32_t c = 0;
        const auto len = utf8proc_iterate(p + i, n - i, &c);
        if (len < 0) {
            ++i;
            continue;
        }
        out.push_back(static_cast<char32_t>(c));
        i += len;
    }
    return out;
}

std::string encode(const std::u32string& s) {
    std::string out;
    for (const char32_t c : s) {
        utf8proc_uint8_t buf[4];
        out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), buf)));
    }
    return out;
}

std::string category(char32_t c) { return utf8proc_category_string(static_cast<utf8proc_int32_t>(c)); }
bool is_whitespace(char32_t c) { return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || category(c) == "Zs"; }
bool is_control(char32_t c) { return c != U'\t' && c != U'\n' && c != U'\r' && category(c)[0] == 'C'; }
bool is_punctuation(char32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
    return category(c)[0] == 'P';
}
bool is_cjk(char32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}
bool is_cased(char32_t c) {
    // Lu, Ll, Lt, and Unicode's Other_Lowercase and Other_Uppercase (PropList.txt).
    static const std::vector<std::pair<char32_t, char32_t>> other = {
        {0xAA, 0xAA},       {0xBA, 0xBA},       {0x2B0, 0x2B8},     {0x2C0, 0x2C1},   {0x2E0, 0x2E4},     {0x345, 0x345},     {0x37A, 0x37A},
        {0x10FC, 0x10FC},   {0x1D2C, 0x1D6A},   {0x1D78, 0x1D78},   {0x1D9B, 0x1DBF}, {0x2071, 0x2071},   {0x207F, 0x207F},   {0x2090, 0x209C},
        {0x2160, 0x217F},   {0x24B6, 0x24E9},   {0x2C7C, 0x2C7D},   {0xA69C, 0xA69D}, {0xA770, 0xA770},   {0xA7F2, 0xA7F4},   {0xA7F8, 0xA7F9},
        {0xAB5C, 0xAB5F},   {0xAB69, 0xAB69},   {0x10780, 0x10780}, {0x10783, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x1E030, 0x1E06D},
        {0x1F130, 0x1F149}, {0x1F150, 0x1F169}, {0x1F170, 0x1F189}};
    const std::string cat = category(c);
    if (cat == "Lu" || cat == "Ll" || cat == "Lt") return true;
    return std::any_of(other.begin(), other.end(), [&](const auto& r) { return c >= r.first && c <= r.second; });
}
bool case_ignorable(char32_t c) {
    static const std::u32string word_break = U"'.:^`\u00B7\u0387\u055F\u05F4\u2018\u2019\u2024\u2027\uFE13\uFE52\uFE55\uFF07\uFF0E\uFF1A";
    const std::string cat = category(c);
    return word_break.find(c) != std::u32string::npos || cat == "Mn" || cat == "Me" || cat == "Cf" || cat == "Lm" || cat == "Sk";
}
// Python's str.split(): also the line and paragraph separators.
bool splits(char32_t c) { return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == 0x2028 || c == 0x2029; }

std::vector<std::u32string> split_on(const std::u32string& s, bool (*sep)(char32_t)) {
    std::vector<std::u32string> out(1);
    for (const char32_t c : s) {
        if (sep(c)) {
            if (!out.back().empty()) out.emplace_back();
        } else {
            out.back().push_back(c);
        }
    }
    if (out.back().empty()) out.pop_back();
    return out;
}

std::vector<std::string> basic(const std::string& text) {
    std::u32string cleaned;
    for (const char32_t c : decode(text)) {
        if (c == 0 || c == 0xFFFD || is_control(c)) continue;
        cleaned.push_back(is_whitespace(c) ? U' ' : c);
    }
    std::u32string spaced;
    for (const char32_t c : cleaned) {
        if (is_cjk(c)) {
            spaced += U' ';
            spaced += c;
            spaced += U' ';
        } else {
            spaced += c;
        }
    }
    std::vector<std::string> words;
    for (std::u32string token : split_on(spaced, splits)) {
        // Lower-case as CPython's str.lower(): a capital sigma is final (ς) when a cased letter
        // precedes it and none follows, case-ignorable characters skipped on both sides.
        std::u32string lower = token;
        for (std::size_t i = 0; i < token.size(); ++i) {
            lower[i] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(token[i])));
            if (token[i] != 0x3A3) continue;
            std::size_t j = i;
            while (j > 0 && case_ignorable(token[j - 1])) --j;
            bool final_sigma = j > 0 && is_cased(token[j - 1]);
            std::size_t k = i + 1;
            while (k < token.size() && case_ignorable(token[k])) ++k;
            if (k < token.size() && is_cased(token[k])) final_sigma = false;
            if (final_sigma) lower[i] = 0x3C2;
        }
        token = lower;
        utf8proc_uint8_t* nfd = utf8proc_NFD(reinterpret_cast<const utf8proc_uint8_t*>(encode(token).c_str()));
        std::u32string stripped;
        for (const char32_t c : decode(reinterpret_cast<const char*>(nfd)))
            if (category(c) != "Mn") stripped.push_back(c);
        std::free(nfd);
        std::u32string current;
        for (const char32_t c : stripped) {
            if (is_punctuation(c)) {
                if (!current.empty()) words.push_back(encode(current));
                current.clear();
                words.push_back(encode(std::u32string(1, c)));
            } else {
                current.push_back(c);
            }
        }
        if (!current.empty()) words.push_back(encode(current));
    }
    return words;
}

std::vector<std::string> wordpiece(const std::string& word, const std::map<std::string, int>& vocab) {
    const std::u32string chars = decode(word);
    if (chars.size() > 100) return {"[UNK]"};
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < chars.size()) {
        std::string found;
        for (std::size_t end = chars.size(); end > start; --end) {
            const std::string sub = (start > 0 ? "##" : "") + encode(chars.substr(start, end - start));
            if (vocab.count(sub) != 0) {
                found = sub;
                start = end;
                break;
            }
        }
        if (found.empty()) return {"[UNK]"};
        out.push_back(found);
    }
    return out;
}

}  // namespace naive

}  // namespace

TEST_CASE("vocabulary: BERT's uncased vocabulary loads with its special tokens at their ids") {
    const Vocabulary& v = bert().vocabulary();
    CHECK(v.size() == 30522);
    CHECK(v.pad_id() == 0);
    CHECK(v.unk_id() == 100);
    CHECK(v.cls_id() == 101);
    CHECK(v.sep_id() == 102);
    CHECK(v.token(103) == "[MASK]");
    CHECK(v.id("cafe") == 7668);  // line 7669
    CHECK(v.id("##aff") == -1);
    CHECK(v.longest_token() == 18);
}

TEST_CASE("tokenizer: accents are stripped and letters lower-cased (Café Noël -> cafe noel)") {
    CHECK(pieces(bert(), "Café Noël") == Pieces{"cafe", "noel"});
    CHECK(bert().tokenize("Café Noël") == std::vector<std::int32_t>{7668, 10716});  // lines 7669 and 10717
    // A precomposed é and e + combining acute (U+0301) are the same after NFD: "été" -> et ##e.
    CHECK(pieces(bert(), "\xC3\xA9t\xC3\xA9") == Pieces{"et", "##e"});
    CHECK(pieces(bert(), "e\xCC\x81te\xCC\x81") == Pieces{"et", "##e"});
    CHECK(pieces(bert(), "naïve RÉSUMÉ") == Pieces{"naive", "resume"});
    // İ lower-cases to i (+ a dot above, a mark that is then stripped); the Angstrom sign is Å, then a.
    CHECK(pieces(bert(), "\xC4\xB0stanbul \xE2\x84\xAB") == Pieces{"istanbul", "a"});
    // A capital sigma at the end of a word lower-cases to ς, as Python's str.lower() does:
    // ΟΔΟΣ -> οδος -> ο ##δ ##ος; inside a word it is σ: ΣΟΣΑ -> σοσα.
    CHECK(bert().basic_tokenize("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3. \xCE\xA3\xCE\x9F\xCE\xA3\xCE\x91") ==
          std::vector<std::string>{"\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82", ".", "\xCF\x83\xCE\xBF\xCF\x83\xCE\xB1"});
    CHECK(bert().tokenize("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3") == std::vector<std::int32_t>{1169, 29722, 15297});  // lines 1170, 29723, 15298
}

TEST_CASE("tokenizer: every punctuation character is a token of its own (wow!!! -> wow ! ! !)") {
    CHECK(bert().tokenize("wow!!!") == std::vector<std::int32_t>{10166, 999, 999, 999});  // wow: line 10167; !: line 1000
    CHECK(pieces(bert(), "Hello, World!") == Pieces{"hello", ",", "world", "!"});
    CHECK(pieces(bert(), "don't") == Pieces{"don", "'", "t"});
    // ASCII symbols count as punctuation as in BERT ("^" and "`" are Sk in Unicode, "$" Sc).
    CHECK(pieces(bert(), "a^c`d$") == Pieces{"a", "^", "c", "`", "d", "$"});
    // Unicode punctuation (category P*): an em dash and curly quotes.
    CHECK(pieces(bert(), "\xE2\x80\x9Cyes\xE2\x80\x94no\xE2\x80\x9D") == Pieces{"\xE2\x80\x9C", "yes", "\xE2\x80\x94", "no", "\xE2\x80\x9D"});
}

TEST_CASE("tokenizer: WordPiece matches greedily, longest first, with ## continuations") {
    // BERT's README splits "unaffable" as un ##aff ##able with another vocabulary; this one has no
    // "##aff" (grep -nxF '##aff' finds nothing). The longest prefix in it is "una" (line 14478),
    // then the longest continuation of "ffable" is "##ffa" (line 20962), then "##ble" (line 3469).
    CHECK(pieces(bert(), "unaffable") == Pieces{"una", "##ffa", "##ble"});
    CHECK(bert().tokenize("unaffable") == std::vector<std::int32_t>{14477, 20961, 3468});
    CHECK(pieces(bert(), "embeddings") == Pieces{"em", "##bed", "##ding", "##s"});
}

TEST_CASE("tokenizer: a word with a character in no piece is [UNK], the words around it are not") {
    // U+1F642 (a smiley) is in no token; "emoji" is em ##oj ##i (lines 7862, 29148, 2073).
    CHECK(bert().tokenize("The \xF0\x9F\x99\x82 emoji") == std::vector<std::int32_t>{1996, 100, 7861, 29147, 2072});
    // The smiley glued to a word makes the whole word unknown, as BERT does.
    CHECK(pieces(bert(), "ok\xF0\x9F\x99\x82") == Pieces{"[UNK]"});
}

TEST_CASE("tokenizer: a word of more than 100 code points is [UNK], one of 100 is split") {
    std::string a100, l100;
    for (int i = 0; i < 50; ++i) a100 += "ab";
    for (int i = 0; i < 100; ++i) l100 += "\xC5\x82";  // ł, two bytes: the limit counts code points
    const auto p100 = pieces(bert(), a100);
    REQUIRE(p100.size() == 50);  // aba, then 48 x ##ba, then ##b
    CHECK(p100.front() == "aba");
    CHECK(p100[1] == "##ba");
    CHECK(p100.back() == "##b");
    CHECK(pieces(bert(), l100).size() == 100);  // ł ##ł ...
    CHECK(pieces(bert(), a100 + "a") == Pieces{"[UNK]"});
    CHECK(pieces(bert(), l100 + "\xC5\x82") == Pieces{"[UNK]"});
    CHECK(pieces(bert(), "x " + a100 + "a y") == Pieces{"x", "[UNK]", "y"});
}

TEST_CASE("tokenizer: CJK ideographs are words of their own, Hangul and kana are not split") {
    // 北 and 京 are tokens (lines 1782, 1756); 欢, 迎 and 你 are not.
    CHECK(pieces(bert(), "北京欢迎你") == Pieces{"北", "京", "[UNK]", "[UNK]", "[UNK]"});
    CHECK(bert().basic_tokenize("ab北京cd") == std::vector<std::string>{"ab", "北", "京", "cd"});
    // Kana stay one word, but NFD splits が into か and a combining voiced mark (Mn), which goes.
    CHECK(bert().basic_tokenize("ひらがな") == std::vector<std::string>{"ひらかな"});
}

TEST_CASE("tokenizer: NUL, U+FFFD and control characters are dropped, other whitespace separates") {
    // NUL, a zero-width space (Cf) and U+FFFD vanish: "abcd" is one word (abc ##d).
    CHECK(pieces(bert(), std::string("a\0b\xE2\x80\x8B" "c\xEF\xBF\xBD" "d e", 13)) == Pieces{"abc", "##d", "e"});
    // No-break space, ideographic space (Zs), the line separator, tabs and newlines separate.
    CHECK(pieces(bert(), "a\xC2\xA0" "b\xE3\x80\x80" "c\xE2\x80\xA8" "d\te\nf") == Pieces{"a", "b", "c", "d", "e", "f"});
    CHECK(bert().tokenize("").empty());
    CHECK(bert().tokenize(" \t\x01\n").empty());
}

TEST_CASE("tokenizer: the fast path agrees with a naive step-by-step reference on random strings") {
    // Fragments that exercise every step: cases, accents (precomposed and combining), ligatures,
    // CJK, Hangul, Greek, punctuation of both kinds, every kind of separator and control character.
    const std::vector<std::string> fragments = {
        "a", "b", "e", "n", "s", "t", "un", "able", "the", "movie", "E", "Z", "Q", " ", "  ", "\t", "\n", "\r", "!", ",", ".", "'", "$", "^", "`", "~",
        "\xC3\xA9", "\xC3\x89", "\xC3\xB1", "e\xCC\x81", "\xCC\x88", "\xC3\x9F", "\xC3\xB8", "\xC5\x82", "\xCE\xA3", "\xCF\x82", "\xCE\x91", "\xE2\x84\xAB",
        "\xEF\xAC\x81", "\xC7\x85", "\xC4\xB0", "\xE5\x8C\x97", "\xE4\xBA\xAC", "\xE6\xAC\xA2", "\xEF\xA4\x80", "\xED\x95\x9C", "\xE3\x81\x8B", "\xE3\x80\x80",
        "\xC2\xA0", "\xE2\x80\x8B", std::string(1, '\0'), "\x01", "\x7F", "\xEF\xBF\xBD", "\xF0\x9F\x99\x82", "\xE2\x80\x94", "\xE2\x80\x9C", "\xE2\x80\xA6",
        "\xE2\x80\xA8", "\xE2\x80\xA9", "\xC2\x85", "\xCE\xA3", "\xCE\xA3", "\xC2\xAA", "\xCA\xB0", "\xC2\xB7", "\xC2\xAD", "\xE2\x85\xA0", "\xD9\x8B", "\xE0\xA4\x95", "\xE0\xA4\xBF", "1", "42", "x1y", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    std::map<std::string, int> vocab;
    for (std::int32_t i = 0; i < bert().vocabulary().size(); ++i) vocab.emplace(bert().vocabulary().token(i), i);
    std::mt19937 rng(17);
    for (int round = 0; round < 1500; ++round) {
        std::string text;
        const int n = std::uniform_int_distribution<int>(0, 24)(rng);
        for (int k = 0; k < n; ++k) text += fragments[std::uniform_int_distribution<std::size_t>(0, fragments.size() - 1)(rng)];
        CAPTURE(round);
        CAPTURE(text);
        const std::vector<std::string> words = naive::basic(text);
        REQUIRE(bert().basic_tokenize(text) == words);
        std::vector<std::string> expected;
        for (const auto& w : words)
            for (const auto& p : naive::wordpiece(w, vocab)) expected.push_back(p);
        REQUIRE(pieces(bert(), text) == expected);
    }
}

TEST_CASE("encode: a sentence is framed [CLS] a [SEP], segment 0, padded with [PAD]") {
    const Encoding e = bert().encode("Hello, World!", 8);
    CHECK(e.ids == std::vector<std::int32_t>{101, 7592, 1010, 2088, 999, 102, 0, 0});  // hello: line 7593, ",": 1011, world: 2089
    CHECK(e.segments == std::vector<std::int32_t>(8, 0));
    CHECK(e.length == 6);
    CHECK_FALSE(e.truncated);
    // Exactly full is not truncated; one piece more is, and [SEP] stays last.
    CHECK_FALSE(bert().encode("Hello, World!", 6).truncated);
    const Encoding cut = bert().encode("Hello, World!", 5);
    CHECK(cut.ids == std::vector<std::int32_t>{101, 7592, 1010, 2088, 102});
    CHECK(cut.truncated);
    CHECK(cut.length == 5);
    CHECK(bert().encode("", 4).ids == std::vector<std::int32_t>{101, 102, 0, 0});
}

TEST_CASE("encode: a pair gets segment 1 for b and is truncated longest-first, from b on a tie") {
    // a = the movie was good (4 pieces), b = a great film ! (4 pieces); 4 + 4 + 3 = 11 tokens.
    const Encoding full = bert().encode("the movie was good", "a great film!", 12);
    CHECK(full.ids == std::vector<std::int32_t>{101, 1996, 3185, 2001, 2204, 102, 1037, 2307, 2143, 999, 102, 0});
    CHECK(full.segments == std::vector<std::int32_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0});
    CHECK(full.length == 11);
    CHECK_FALSE(full.truncated);
    // Room for 6 pieces: 4/4, a tie: b loses "!" -> 4/3: a loses "good" -> 3/3 fits.
    const Encoding cut = bert().encode("the movie was good", "a great film!", 9);
    CHECK(cut.ids == std::vector<std::int32_t>{101, 1996, 3185, 2001, 102, 1037, 2307, 2143, 102});
    CHECK(cut.segments == std::vector<std::int32_t>{0, 0, 0, 0, 0, 1, 1, 1, 1});
    CHECK(cut.length == 9);
    CHECK(cut.truncated);
    // Room for 5: then the tie at 3/3 costs b its "film".
    CHECK(bert().encode("the movie was good", "a great film!", 8).ids == std::vector<std::int32_t>{101, 1996, 3185, 2001, 102, 1037, 2307, 102});
    // A long a against a short b: only a shrinks until they are level.
    const Encoding lopsided = bert().encode("the movie was good the movie was good", "film", 8);
    CHECK(lopsided.ids == std::vector<std::int32_t>{101, 1996, 3185, 2001, 2204, 102, 2143, 102});
    CHECK(lopsided.truncated);
}

TEST_CASE("encode: a sequence length too short for [CLS] and [SEP] is an error") {
    CHECK_THROWS_WITH_AS(bert().encode("hi", 1), "sequence_length 1 is too short: a sentence needs at least 2 tokens ([CLS] and [SEP])", ConfigError);
    CHECK_THROWS_WITH_AS(bert().encode("hi", "there", 2), "sequence_length 2 is too short: a sentence pair needs at least 3 tokens ([CLS] and two [SEP])",
                         ConfigError);
}

TEST_CASE("vocabulary: malformed files are errors naming the file and line") {
    const std::string specials = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n";
    CHECK_THROWS_WITH_AS(Vocabulary::parse(specials + "a\nb\na\n", "v.txt"), "v.txt:7: error: duplicate token 'a' (first on line 5) (vocabulary)", ConfigError);
    CHECK_THROWS_WITH_AS(Vocabulary::parse(specials + "a\n\nb\n", "v.txt"),
                         "v.txt:6: error: empty line: every line holds one token, whose id is its line number from 0 (vocabulary)", ConfigError);
    CHECK_THROWS_WITH_AS(Vocabulary::parse("[PAD]\n[UNK]\na\n", "v.txt"),
                         "v.txt: error: the vocabulary has no [CLS], [SEP]; a BERT vocabulary needs [PAD], [UNK], [CLS] and [SEP] (vocabulary)", ConfigError);
    CHECK_THROWS_WITH_AS(Vocabulary::parse("", "v.txt"),
                         "v.txt: error: the vocabulary has no [PAD], [UNK], [CLS], [SEP]; a BERT vocabulary needs [PAD], [UNK], [CLS] and [SEP] (vocabulary)",
                         ConfigError);
    CHECK_THROWS_WITH_AS(Vocabulary::parse(specials + "ok\nb\xFFz\n", "v.txt"), "v.txt:6: error: not valid UTF-8 (byte 2 of the line is 0xFF) (vocabulary)",
                         ConfigError);
    CHECK_THROWS_WITH_AS(Vocabulary::parse("[PAD]\r\n[UNK]\r\n", "v.txt"),
                         "v.txt:1: error: the line ends with CR LF (Windows line ends); convert the file to LF line ends (vocabulary)", ConfigError);
    CHECK_THROWS_WITH_AS(Vocabulary::parse("\xEF\xBB\xBF" + specials, "v.txt"),
                         "v.txt:1: error: the file starts with a UTF-8 byte-order mark (EF BB BF); save it without one (vocabulary)", ConfigError);
    CHECK_THROWS_WITH_AS(Vocabulary::load("/nonexistent/vocab.txt"), "/nonexistent/vocab.txt: error: cannot open the vocabulary file (file)", ConfigError);
    // Without a final newline the last line still counts; ids are line numbers from 0.
    const Vocabulary v = Vocabulary::parse("[UNK]\n[SEP]\n[PAD]\n[CLS]\n##x", "v.txt");
    CHECK(v.size() == 5);
    CHECK(v.pad_id() == 2);
    CHECK(v.cls_id() == 3);
    CHECK(v.id("##x") == 4);
}

TEST_CASE("vocabulary: load_shared reads a file once, and again when it changes") {
    const test::TempDir dir;
    const auto file = dir.path() / "vocab.txt";
    const std::string specials = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n";
    dir.write("vocab.txt", specials + "a\n");
    const auto first = Vocabulary::load_shared(file);
    CHECK(first->size() == 5);
    CHECK(Vocabulary::load_shared(file) == first);  // unchanged: the same object, not read again

    // A new size is a new file.
    dir.write("vocab.txt", specials + "a\nb\n");
    const auto second = Vocabulary::load_shared(file);
    CHECK(second != first);
    CHECK(second->size() == 6);
    CHECK(first->size() == 5);  // a holder of the old one keeps it

    // The same size with another modification time is a new file too.
    dir.write("vocab.txt", specials + "a\nc\n");
    std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + std::chrono::seconds(5));
    const auto third = Vocabulary::load_shared(file);
    CHECK(third != second);
    CHECK(third->id("c") == 5);
    CHECK(third->id("b") == -1);

    // A file that fails is not kept: the error is raised each time, and the fixed file loads.
    dir.write("vocab.txt", specials + "a\na\n");
    for (int i = 0; i < 2; ++i)
        CHECK_THROWS_WITH_AS(Vocabulary::load_shared(file), doctest::Contains("vocab.txt:6: error: duplicate token 'a' (first on line 5) (vocabulary)"), ConfigError);
    dir.write("vocab.txt", specials + "d\n");
    CHECK(Vocabulary::load_shared(file)->id("d") == 4);
    CHECK_THROWS_WITH_AS(Vocabulary::load_shared(dir.path() / "none.txt"), doctest::Contains("none.txt: error: cannot open the vocabulary file (file)"), ConfigError);
    CHECK_THROWS_WITH_AS(Vocabulary::load_shared(dir.path()), doctest::Contains("error: the vocabulary file is a directory, not a regular file (file)"), ConfigError);
}

TEST_CASE("transcode tokenize prints the pieces, ids, segments, length and truncation") {
    const std::string vocab = " --vocabulary " + bert_vocab_file;
    const auto r = test::run_cli("tokenize" + vocab + " --sequence-length 8 'Café Noël, wow!!!'");
    CHECK(r.exit_code == 0);
    CHECK(r.output ==
          "position  piece                    id segment\n"
          "       0  [CLS]                   101       0\n"
          "       1  cafe                   7668       0\n"
          "       2  noel                  10716       0\n"
          "       3  ,                      1010       0\n"
          "       4  wow                   10166       0\n"
          "       5  !                       999       0\n"
          "       6  !                       999       0\n"
          "       7  [SEP]                   102       0\n"
          "length 8 of 8 (0 [PAD] after), truncated: yes\n");
    const auto pair = test::run_cli("tokenize" + vocab + " --json --sequence-length 16 'the movie' 'a film'");
    CHECK(pair.exit_code == 0);
    CHECK(pair.output.find("\"ids\": [\n    101,\n    1996,\n    3185,\n    102,\n    1037,\n    2143,\n    102\n  ]") != std::string::npos);
    CHECK(pair.output.find("\"segments\": [\n    0,\n    0,\n    0,\n    0,\n    1,\n    1,\n    1\n  ]") != std::string::npos);
    const auto missing = test::run_cli("tokenize --vocabulary /nonexistent/vocab.txt hello");
    CHECK(missing.exit_code == 2);
    CHECK(missing.output == "/nonexistent/vocab.txt: error: cannot open the vocabulary file (file)\n");
    const auto bad = test::run_cli("tokenize" + vocab + " \"$(printf 'caf\\377')\"");
    CHECK(bad.exit_code == 2);
    CHECK(bad.output == "error: text 1 is not valid UTF-8 (byte 4 is 0xFF)\n");
    CHECK(test::run_cli("tokenize" + vocab + " a b c").exit_code == 2);  // at most a pair
}
