#include "tokenizer/wordpiece.hpp"

#include <algorithm>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>

#include <sys/stat.h>

#include <fmt/format.h>
#include <utf8proc.h>

#include "config/node.hpp"
#include "transcode/errors.hpp"
#include "transcode/input_file.hpp"

namespace transcode::engine {

namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

// BERT counts every printable ASCII character that is not a letter or digit as punctuation
// ("^", "$", "`" are symbols in Unicode, punctuation here).
bool ascii_punctuation(std::int32_t c) { return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126); }

bool punctuation(std::int32_t c, utf8proc_category_t cat) {
    if (c < 0x80) return ascii_punctuation(c);
    switch (cat) {
        case UTF8PROC_CATEGORY_PC:
        case UTF8PROC_CATEGORY_PD:
        case UTF8PROC_CATEGORY_PS:
        case UTF8PROC_CATEGORY_PE:
        case UTF8PROC_CATEGORY_PI:
        case UTF8PROC_CATEGORY_PF:
        case UTF8PROC_CATEGORY_PO:
            return true;
        default:
            return false;
    }
}

// Separators: BERT's _is_whitespace (space, tab, LF, CR, category Zs) and what Python's
// str.split() also splits on after cleaning (U+2028 line and U+2029 paragraph separators).
bool whitespace(std::int32_t c, utf8proc_category_t cat) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || cat == UTF8PROC_CATEGORY_ZS || c == 0x2028 || c == 0x2029;
}

// HuggingFace's _is_control: every category C* (Cc, Cf, Cn, Co, Cs) except tab, LF and CR.
bool control(utf8proc_category_t cat) {
    return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CO ||
           cat == UTF8PROC_CATEGORY_CS;
}

// The CJK Unified Ideographs blocks BERT puts spaces around (_is_chinese_char); Hangul, kana and
// CJK punctuation are not among them.
bool cjk_ideograph(std::int32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Final sigma (Python's str.lower()): a capital sigma after a cased letter, and not before one,
// is ς, else σ; case-ignorable characters in between are skipped. Unicode's Cased and
// Case_Ignorable properties: cased = categories Lu, Ll, Lt and Other_Lowercase/Other_Uppercase;
// case-ignorable = Mn, Me, Cf, Lm, Sk and the word-break MidLetter, MidNumLet and Single_Quote
// characters.
// Unicode's Other_Lowercase and Other_Uppercase (PropList.txt): cased, though not Lu, Ll or Lt.
constexpr std::pair<std::int32_t, std::int32_t> other_cased[] = {
    {0xAA, 0xAA},       {0xBA, 0xBA},       {0x2B0, 0x2B8},     {0x2C0, 0x2C1},     {0x2E0, 0x2E4},     {0x345, 0x345},     {0x37A, 0x37A},
    {0x10FC, 0x10FC},   {0x1D2C, 0x1D6A},   {0x1D78, 0x1D78},   {0x1D9B, 0x1DBF},   {0x2071, 0x2071},   {0x207F, 0x207F},   {0x2090, 0x209C},
    {0x2160, 0x217F},   {0x24B6, 0x24E9},   {0x2C7C, 0x2C7D},   {0xA69C, 0xA69D},   {0xA770, 0xA770},   {0xA7F2, 0xA7F4},   {0xA7F8, 0xA7F9},
    {0xAB5C, 0xAB5F},   {0xAB69, 0xAB69},   {0x10780, 0x10780}, {0x10783, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x1E030, 0x1E06D},
    {0x1F130, 0x1F149}, {0x1F150, 0x1F169}, {0x1F170, 0x1F189},
};

bool cased(std::int32_t c, utf8proc_category_t cat) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) return true;
    for (const auto& [lo, hi] : other_cased)
        if (c >= lo && c <= hi) return true;
    return false;
}

bool case_ignorable(std::int32_t c, utf8proc_category_t cat) {
    switch (c) {
        case 0x27: case 0x2E: case 0x3A: case 0x5E: case 0x60: case 0xB7: case 0x387: case 0x55F: case 0x5F4: case 0x2018: case 0x2019:
        case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
            return true;
        default:
            break;
    }
    if (c < 0x80) return false;
    return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM ||
           cat == UTF8PROC_CATEGORY_SK;
}

void append_utf8(std::string& s, std::int32_t c) {
    utf8proc_uint8_t buf[4];
    const auto n = utf8proc_encode_char(c, buf);
    s.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

std::string read_file(const std::filesystem::path& p, const char* what) {
    std::string text;
    const std::string problem = read_input_file(p, max_vocabulary_file_bytes, text);
    if (problem.empty()) return text;
    if (problem == "not found") throw ConfigError(fmt::format("{}: error: cannot open the {} (file)", p.string(), what));
    if (is_size_problem(problem)) throw ConfigError(fmt::format("{}: error: the {} {} (limit)", p.string(), what, problem));
    throw ConfigError(fmt::format("{}: error: the {} {} (file)", p.string(), what, problem));
}

}  // namespace

Vocabulary Vocabulary::load(const std::filesystem::path& file) { return parse(read_file(file, "vocabulary file"), file.string()); }

std::shared_ptr<const Vocabulary> Vocabulary::load_shared(const std::filesystem::path& file) {
    // What identifies a file's content without reading it. A file changed between stat() and the
    // read is kept under its older identity, so the next call finds a mismatch and reads it again.
    struct Identity {
        std::string path;
        dev_t device = 0;
        ino_t inode = 0;
        off_t size = 0;
        std::int64_t mtime_s = 0, mtime_ns = 0;
        bool operator==(const Identity&) const = default;
    };
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::make_shared<const Vocabulary>(load(file));  // load() says why
    const Identity identity{file.string(), st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};

    static constexpr std::size_t kept = 4;
    static std::mutex mutex;
    static std::vector<std::pair<Identity, std::shared_ptr<const Vocabulary>>> cache;  // most recently used last
    {
        const std::lock_guard lock(mutex);
        for (auto it = cache.begin(); it != cache.end(); ++it)
            if (it->first == identity) {
                auto hit = *it;
                cache.erase(it);
                cache.push_back(hit);
                return hit.second;
            }
    }
    auto loaded = std::make_shared<const Vocabulary>(load(file));  // outside the lock: reading takes a while
    const std::lock_guard lock(mutex);
    std::erase_if(cache, [&](const auto& entry) { return entry.first.path == identity.path; });
    if (cache.size() >= kept) cache.erase(cache.begin());
    cache.emplace_back(identity, loaded);
    return loaded;
}

Vocabulary Vocabulary::parse(std::string_view text, const std::string& name) {
    Vocabulary v;
    v.name_ = name;
    if (text.substr(0, utf8_bom.size()) == utf8_bom)
        throw ConfigError(fmt::format("{}:1: error: the file starts with a UTF-8 byte-order mark (EF BB BF); save it without one (vocabulary)", name));
    std::size_t at = 0;
    std::int64_t line = 0;
    while (at < text.size()) {
        ++line;
        std::size_t end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view token = text.substr(at, end - at);
        at = end + 1;
        if (!token.empty() && token.back() == '\r')
            throw ConfigError(fmt::format("{}:{}: error: the line ends with CR LF (Windows line ends); convert the file to LF line ends (vocabulary)", name, line));
        if (token.empty())
            throw ConfigError(fmt::format("{}:{}: error: empty line: every line holds one token, whose id is its line number from 0 (vocabulary)", name, line));
        if (const std::size_t bad = config::invalid_utf8_at(token); bad != std::string_view::npos)
            throw ConfigError(
                fmt::format("{}:{}: error: not valid UTF-8 (byte {} of the line is 0x{:02X}) (vocabulary)", name, line, bad + 1, static_cast<unsigned char>(token[bad])));
        const auto id = static_cast<std::int32_t>(v.tokens_.size());
        const auto [it, inserted] = v.ids_.emplace(std::string(token), id);
        if (!inserted)
            throw ConfigError(fmt::format("{}:{}: error: duplicate token '{}' (first on line {}) (vocabulary)", name, line, token, it->second + 1));
        v.tokens_.emplace_back(token);
        v.longest_ = std::max(v.longest_, static_cast<std::size_t>(std::count_if(token.begin(), token.end(), [](char c) {
                                              return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                                          })));
    }
    std::string missing;
    for (const auto& [special, slot] : {std::pair{"[PAD]", &v.pad_}, {"[UNK]", &v.unk_}, {"[CLS]", &v.cls_}, {"[SEP]", &v.sep_}}) {
        *slot = v.id(special);
        if (*slot < 0) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", special);
    }
    if (!missing.empty())
        throw ConfigError(fmt::format("{}: error: the vocabulary has no {}; a BERT vocabulary needs [PAD], [UNK], [CLS] and [SEP] (vocabulary)", name, missing));
    return v;
}

// The basic tokeniser in one pass over the text, character by character, in BERT's order:
// clean (drop NUL, U+FFFD and control characters; whitespace separates), put CJK ideographs in
// words of their own, lower-case, decompose (NFD) and drop the combining marks (Mn), and make
// each punctuation character a word of its own. `word` is the caller's buffer.
template <typename OnWord>
void WordPieceTokenizer::for_each_word(std::string_view text, std::string& word, OnWord&& on_word) const {
    word.clear();
    auto flush = [&] {
        if (!word.empty()) on_word(std::string_view(word));
        word.clear();
    };
    // After lower-casing: the decomposed code points, marks dropped, punctuation alone.
    auto add = [&](std::int32_t c) {
        utf8proc_int32_t parts[32];
        int boundclass = 0;
        const utf8proc_ssize_t n = utf8proc_decompose_char(utf8proc_tolower(c), parts, 32, UTF8PROC_DECOMPOSE, &boundclass);
        for (utf8proc_ssize_t k = 0; k < std::min<utf8proc_ssize_t>(n, 32); ++k) {
            const auto cat = utf8proc_category(parts[k]);
            if (cat == UTF8PROC_CATEGORY_MN) continue;
            if (punctuation(parts[k], cat)) {
                flush();
                append_utf8(word, parts[k]);
                flush();
            } else {
                append_utf8(word, parts[k]);
            }
        }
    };
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    const auto n = static_cast<utf8proc_ssize_t>(text.size());
    // Whether the last character of this whitespace-separated token that is not case-ignorable
    // is cased (for the final sigma); CJK ideographs are tokens of their own.
    bool cased_before = false;
    // After a capital sigma at [.., from): is a cased letter next in its token?
    auto cased_after = [&](utf8proc_ssize_t from) {
        while (from < n) {
            utf8proc_int32_t c = 0;
            const utf8proc_ssize_t len = utf8proc_iterate(p + from, n - from, &c);
            if (len < 0) {
                ++from;
                continue;
            }
            from += len;
            const auto cat = utf8proc_category(c);
            if (c == 0 || c == 0xFFFD || (control(cat) && !whitespace(c, cat))) continue;  // dropped by the cleaning
            if (whitespace(c, cat) || cjk_ideograph(c)) return false;
            if (!case_ignorable(c, cat)) return cased(c, cat);
        }
        return false;
    };
    utf8proc_ssize_t i = 0;
    while (i < n) {
        const unsigned char b = p[i];
        if (b < 0x80) {  // ASCII, the common case, without table look-ups
            ++i;
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
                flush();
                cased_before = false;
            } else if (b < 0x20 || b == 0x7F) {
                // NUL and the other control characters are dropped
            } else if (ascii_punctuation(b)) {
                flush();
                word.push_back(static_cast<char>(b));
                flush();
                if (!case_ignorable(b, UTF8PROC_CATEGORY_PO)) cased_before = false;
            } else {
                const bool letter = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
                word.push_back(static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b));
                cased_before = letter;
            }
            continue;
        }
        utf8proc_int32_t c = 0;
        const utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &c);
        if (len < 0) {  // not UTF-8: dropped
            ++i;
            continue;
        }
        i += len;
        if (c == 0xFFFD) continue;
        const auto cat = utf8proc_category(c);
        if (whitespace(c, cat)) {
            flush();
            cased_before = false;
        } else if (control(cat)) {
            // dropped
        } else if (cjk_ideograph(c)) {
            flush();
            add(c);
            flush();
            cased_before = false;
        } else if (c == 0x3A3 && cased_before && !cased_after(i)) {
            add(0x3C2);  // final sigma
        } else {
            add(c);
            if (!case_ignorable(c, cat)) cased_before = cased(c, cat);
        }
    }
    flush();
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(std::string_view text) const {
    std::vector<std::string> words;
    std::string word;
    for_each_word(text, word, [&](std::string_view w) { words.emplace_back(w); });
    return words;
}

void WordPieceTokenizer::wordpiece(std::string_view word, std::vector<std::int32_t>& out) const {
    thread_local std::vector<std::size_t> starts;  // byte offset of each code point, then the end
    thread_local std::string key;
    starts.clear();
    for (std::size_t b = 0; b < word.size(); ++b)
        if ((static_cast<unsigned char>(word[b]) & 0xC0) != 0x80) starts.push_back(b);
    const std::size_t chars = starts.size();
    starts.push_back(word.size());
    if (chars > max_word_code_points) {
        out.push_back(vocab_->unk_id());
        return;
    }
    const std::size_t first = out.size();
    std::size_t start = 0;
    while (start < chars) {
        std::int32_t found = -1;
        std::size_t end = std::min(chars, start + vocab_->longest_token());
        for (; end > start; --end) {
            key.assign(start > 0 ? "##" : "");
            key.append(word.substr(starts[start], starts[end] - starts[start]));
            found = vocab_->id(key);
            if (found >= 0) break;
        }
        if (found < 0) {  // a part of the word matches no piece: the whole word is unknown
            out.resize(first);
            out.push_back(vocab_->unk_id());
            return;
        }
        out.push_back(found);
        start = end;
    }
}

std::vector<std::int32_t> WordPieceTokenizer::tokenize(std::string_view text) const {
    std::vector<std::int32_t> ids;
    thread_local std::string word;
    for_each_word(text, word, [&](std::string_view w) { wordpiece(w, ids); });
    return ids;
}

Encoding WordPieceTokenizer::frame(std::vector<std::int32_t> a, std::vector<std::int32_t>* b, std::int64_t S) const {
    Encoding e;
    if (b == nullptr) {
        if (S < 2) throw ConfigError(fmt::format("sequence_length {} is too short: a sentence needs at least 2 tokens ([CLS] and [SEP])", S));
        const auto room = static_cast<std::size_t>(S - 2);
        if (a.size() > room) {
            a.resize(room);
            e.truncated = true;
        }
    } else {
        if (S < 3) throw ConfigError(fmt::format("sequence_length {} is too short: a sentence pair needs at least 3 tokens ([CLS] and two [SEP])", S));
        const auto room = static_cast<std::size_t>(S - 3);
        while (a.size() + b->size() > room) {
            if (a.size() > b->size())
                a.pop_back();
            else
                b->pop_back();
            e.truncated = true;
        }
    }
    e.ids.assign(static_cast<std::size_t>(S), vocab_->pad_id());
    e.segments.assign(static_cast<std::size_t>(S), 0);
    std::size_t at = 0;
    e.ids[at++] = vocab_->cls_id();
    for (const auto id : a) e.ids[at++] = id;
    e.ids[at++] = vocab_->sep_id();
    if (b != nullptr) {
        for (const auto id : *b) {
            e.segments[at] = 1;
            e.ids[at++] = id;
        }
        e.segments[at] = 1;
        e.ids[at++] = vocab_->sep_id();
    }
    e.length = static_cast<std::int32_t>(at);
    return e;
}

Encoding WordPieceTokenizer::encode(std::string_view a, std::int64_t S) const { return frame(tokenize(a), nullptr, S); }

Encoding WordPieceTokenizer::encode(std::string_view a, std::string_view b, std::int64_t S) const {
    std::vector<std::int32_t> second = tokenize(b);
    return frame(tokenize(a), &second, S);
}

}  // namespace transcode::engine
