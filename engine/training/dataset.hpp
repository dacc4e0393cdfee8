// Sequence-classification data for training: a built-in synthetic task and a TSV reader (GLUE's
// layout with BERT's WordPiece tokenizer is training/glue.hpp).
//
// Every sequence is `[CLS] tokens... [SEP]` padded with [PAD] to the model's sequence length
// (longer ones are truncated, keeping [SEP]). Token ids: 0 [PAD], 1 [CLS], 2 [SEP], 3 [UNK], then
// the vocabulary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace transcode::engine {

struct Example {
    std::vector<std::int32_t> ids;       ///< sequence_length token ids
    std::vector<std::int32_t> segments;  ///< segment (token type) ids, one per position; empty: all 0
    std::int32_t length = 0;             ///< real tokens ([CLS] ... [SEP]) before the padding; 0: all sequence_length are real
    std::int32_t label = 0;
};

struct Dataset {
    std::vector<Example> train;
    std::vector<Example> validation;
    std::int64_t vocab_size = 0;   ///< ids are < vocab_size
    std::int64_t num_classes = 2;
    std::string description;       ///< for reports
    std::int64_t truncated_train = 0;       ///< examples that lost tokens to the sequence length (GLUE reader)
    std::int64_t truncated_validation = 0;
};

inline constexpr std::int32_t pad_id = 0, cls_id = 1, sep_id = 2, unk_id = 3, first_word_id = 4;

/// The built-in task: sentiment with negation and intensifier scope. Sentences mix neutral filler
/// with sentiment phrases `[negator] [intensifier] word`; a word scores ±1, ×2 when intensified,
/// and a negator flips the word that follows it within two tokens. The label is the sign of the
/// sum (ties are never generated). Words, phrase counts and lengths are drawn from `seed`; the
/// split is `train` examples then `validation` examples from one stream.
struct SyntheticTask {
    std::int64_t train = 4096;
    std::int64_t validation = 1024;
    std::int64_t sentiment_words = 24;  ///< per polarity
    std::int64_t filler_words = 64;
    std::uint64_t seed = 0;
};
Dataset make_synthetic_sentiment(const SyntheticTask& task, std::int64_t sequence_length);

/// The whole of a data file; a file that cannot be opened is a ConfigError
/// `FILE: error: cannot open the data file (file)`.
std::string read_data_file(const std::filesystem::path& p);

/// Reads `label<TAB>token token ...` lines. The vocabulary is built from the training file (words
/// in order of first appearance); validation words not in it become [UNK]. Labels must be integers
/// in [0, num_classes). Blank lines are skipped. Errors (ConfigError): `FILE:LINE: error: ...`.
Dataset read_tsv(const std::filesystem::path& train, const std::filesystem::path& validation, std::int64_t sequence_length, std::int64_t num_classes);

/// The same from text (for tests and fuzzing); `train_name`/`validation_name` name them in errors.
Dataset parse_tsv(const std::string& train_text, const std::string& train_name, const std::string& validation_text, const std::string& validation_name,
                  std::int64_t sequence_length, std::int64_t num_classes);

}  // namespace transcode::engine
