// BERT's tokenizer (uncased): a WordPiece vocabulary, basic tokenisation (clean, split CJK
// ideographs, lower-case, strip accents, split on whitespace and punctuation), greedy
// longest-match-first WordPiece, and the `[CLS] a [SEP] (b [SEP])` framing with segment ids,
// truncation and padding. It reproduces google-research/bert's tokenization.py and HuggingFace's
// BertTokenizer (do_lower_case=True); the few deliberate differences are listed in README.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace transcode::engine {

/// A WordPiece vocabulary: one token per line, the token's id is its line number from 0.
class Vocabulary {
public:
    /// Reads a vocabulary file. Errors (ConfigError): `FILE:LINE: error: ... (vocabulary)` for a
    /// duplicate token (naming the line of the first), an empty line, a CR LF line end, a UTF-8
    /// byte-order mark, invalid UTF-8; `FILE: error: ...` for missing [PAD], [UNK], [CLS] or
    /// [SEP], and `FILE: error: cannot open the vocabulary file (file)`.
    static Vocabulary load(const std::filesystem::path& file);
    /// load(), shared: a file already read by this process, unchanged since (same path as given,
    /// device, inode, size and modification time), is not read again. Thread-safe; the last few
    /// files are kept (a BERT vocabulary is about 3 MB in memory). Errors as load(); a file that
    /// fails is never kept.
    static std::shared_ptr<const Vocabulary> load_shared(const std::filesystem::path& file);
    /// The same from text; `name` names it in errors.
    static Vocabulary parse(std::string_view text, const std::string& name);

    std::int32_t size() const { return static_cast<std::int32_t>(tokens_.size()); }
    /// The id of `token`, or -1 when it is not in the vocabulary.
    std::int32_t id(const std::string& token) const {
        const auto it = ids_.find(token);
        return it == ids_.end() ? -1 : it->second;
    }
    const std::string& token(std::int32_t id) const { return tokens_.at(static_cast<std::size_t>(id)); }
    std::int32_t pad_id() const { return pad_; }
    std::int32_t unk_id() const { return unk_; }
    std::int32_t cls_id() const { return cls_; }
    std::int32_t sep_id() const { return sep_; }
    /// The longest token, in code points (WordPiece never tries a longer piece).
    std::size_t longest_token() const { return longest_; }
    /// Where it came from (the file name), for messages.
    const std::string& name() const { return name_; }

private:
    std::string name_;
    std::vector<std::string> tokens_;
    std::unordered_map<std::string, std::int32_t> ids_;
    std::int32_t pad_ = -1, unk_ = -1, cls_ = -1, sep_ = -1;
    std::size_t longest_ = 0;
};

/// One framed sequence: `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, padded with [PAD].
struct Encoding {
    std::vector<std::int32_t> ids;       ///< sequence_length token ids
    std::vector<std::int32_t> segments;  ///< sequence_length segment ids: 0 for [CLS] a [SEP] and the padding, 1 for b [SEP]
    std::int32_t length = 0;             ///< real tokens before the padding
    bool truncated = false;              ///< some word pieces did not fit in sequence_length
};

class WordPieceTokenizer {
public:
    /// Words longer than this many code points become [UNK] (BERT's max_input_chars_per_word).
    static constexpr std::size_t max_word_code_points = 100;

    explicit WordPieceTokenizer(Vocabulary vocabulary) : vocab_(std::make_shared<const Vocabulary>(std::move(vocabulary))) {}
    explicit WordPieceTokenizer(std::shared_ptr<const Vocabulary> vocabulary) : vocab_(std::move(vocabulary)) {}

    const Vocabulary& vocabulary() const { return *vocab_; }

    /// Basic tokenisation: the words (and single punctuation characters) WordPiece then splits,
    /// lower-cased and without accents. `text` should be valid UTF-8; invalid bytes are dropped
    /// (as BERT's convert_to_unicode does with errors="ignore").
    std::vector<std::string> basic_tokenize(std::string_view text) const;
    /// WordPiece on one word of basic_tokenize: appends the ids of its pieces (or [UNK]) to `out`.
    void wordpiece(std::string_view word, std::vector<std::int32_t>& out) const;
    /// Both: the ids of the word pieces of `text`, without [CLS] or [SEP].
    std::vector<std::int32_t> tokenize(std::string_view text) const;

    /// `[CLS] a [SEP]`, truncated (a's last pieces go) and padded to `sequence_length` (>= 2).
    Encoding encode(std::string_view a, std::int64_t sequence_length) const;
    /// `[CLS] a [SEP] b [SEP]` (sequence_length >= 3). When too long, pieces are removed one at a
    /// time from the end of the longer part, from b when they are as long (BERT's
    /// _truncate_seq_pair; HuggingFace's truncation=True, longest_first).
    Encoding encode(std::string_view a, std::string_view b, std::int64_t sequence_length) const;
    /// The framing alone, from piece ids (`b` null for a single sentence).
    Encoding frame(std::vector<std::int32_t> a, std::vector<std::int32_t>* b, std::int64_t sequence_length) const;

private:
    template <typename OnWord>
    void for_each_word(std::string_view text, std::string& word, OnWord&& on_word) const;

    std::shared_ptr<const Vocabulary> vocab_;  // never null
};

}  // namespace transcode::engine
