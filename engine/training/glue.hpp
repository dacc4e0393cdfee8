// The GLUE reader: sequence-classification data in GLUE's TSV layout (SST-2, CoLA, MRPC, RTE, ...),
// tokenised with BERT's WordPiece tokenizer (engine/tokenizer).
//
// A file is a header line naming the columns, then one example per line, fields separated by tabs
// (no quoting: a quote is text, as GLUE's files are read). The text is one column (a sentence)
// or two (a sentence pair); the label is an integer in [0, num_classes), or one of `label_names`
// (its position is the class). Blank lines are skipped. Errors (ConfigError) read
// `FILE:LINE: error: ... (glue)`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/wordpiece.hpp"
#include "training/dataset.hpp"

namespace transcode::engine {

struct GlueFormat {
    std::vector<std::string> text_columns = {"sentence"};  ///< one column, or two for sentence pairs
    std::string label_column = "label";
    std::vector<std::string> label_names;  ///< empty: integer labels; else label i is label_names[i]
};

/// One split: the examples and how many of them lost word pieces to the sequence length.
struct GlueSplit {
    std::vector<Example> examples;
    std::int64_t truncated = 0;
};

/// Parses one split from text; `name` names it in errors.
GlueSplit parse_glue_split(const std::string& text, const std::string& name, const WordPieceTokenizer& tokenizer, const GlueFormat& format,
                           std::int64_t sequence_length, std::int64_t num_classes);

/// Reads the training and validation files (the training file's errors first). vocab_size is the
/// vocabulary's size; truncated_train and truncated_validation count the truncated examples.
Dataset read_glue(const std::filesystem::path& train, const std::filesystem::path& validation, const WordPieceTokenizer& tokenizer,
                  const GlueFormat& format, std::int64_t sequence_length, std::int64_t num_classes);

}  // namespace transcode::engine
