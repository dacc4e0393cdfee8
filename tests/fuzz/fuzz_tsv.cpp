// fuzz_tsv: bytes -> the dataset TSV reader (engine::parse_tsv) and the GLUE reader with BERT's
// WordPiece tokenizer (engine::parse_glue_split).
//
// The input is the training text, a NUL byte, then the validation text (no NUL: the same text for
// both). A ConfigError is the expected answer to bad data, and must read `NAME:LINE: error:` or
// `NAME: error:`. Accepted data must be framed exactly: every sequence has the sequence length,
// starts with [CLS], holds only ids below the vocabulary size, and every label is a class. The GLUE
// reader reads the training text as single sentences (columns sentence, label) and the validation
// text as pairs (sentence1, sentence2, label); its sequences also end their real tokens in [SEP].
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "training/dataset.hpp"
#include "training/glue.hpp"

using namespace transcode;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

namespace {

const engine::WordPieceTokenizer& tokenizer() {
    static const engine::WordPieceTokenizer t(
        engine::Vocabulary::parse("[PAD]\n[UNK]\n[CLS]\n[SEP]\na\nb\n##a\n##b\nthe\n##s\n!\n.\n\xC3\xA9\n\xE5\x8C\x97\n", "vocab.txt"));
    return t;
}

void fuzz_glue(const std::string& text, const std::string& name, const engine::GlueFormat& format) {
    constexpr std::int64_t S = 10, classes = 3;
    try {
        const engine::GlueSplit s = engine::parse_glue_split(text, name, tokenizer(), format, S, classes);
        fuzz::check(!s.examples.empty(), "an empty GLUE split was accepted");
        for (const auto& e : s.examples) {
            fuzz::check(static_cast<std::int64_t>(e.ids.size()) == S, "a GLUE sequence is not framed to the sequence length");
            fuzz::check(e.ids.front() == tokenizer().vocabulary().cls_id(), "a GLUE sequence does not start with [CLS]");
            fuzz::check(e.length >= 2 && e.length <= S && e.ids[static_cast<std::size_t>(e.length - 1)] == tokenizer().vocabulary().sep_id(),
                        "a GLUE sequence's real tokens do not end in [SEP]");
            fuzz::check(e.segments.empty() || static_cast<std::int64_t>(e.segments.size()) == S, "GLUE segment ids are not framed");
            fuzz::check(e.label >= 0 && e.label < classes, "a GLUE label outside the classes was accepted");
            for (auto id : e.ids) fuzz::check(id >= 0 && id < tokenizer().vocabulary().size(), "a GLUE id outside the vocabulary");
        }
    } catch (const ConfigError& e) {
        const std::string m = e.what();
        fuzz::check(m.rfind(name + ":", 0) == 0, "a GLUE error does not name its file");
        fuzz::check(m.find(" error: ") != std::string::npos, "a GLUE error has no 'error:'");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::size_t nul = text.find('\0');
    const std::string train = nul == std::string::npos ? text : text.substr(0, nul);
    const std::string validation = nul == std::string::npos ? text : text.substr(nul + 1);
    constexpr std::int64_t S = 12, classes = 3;
    try {
        const engine::Dataset d = engine::parse_tsv(train, "train.tsv", validation, "valid.tsv", S, classes);
        for (const auto* split : {&d.train, &d.validation})
            for (const auto& e : *split) {
                fuzz::check(static_cast<std::int64_t>(e.ids.size()) == S, "a sequence is not framed to the sequence length");
                fuzz::check(e.ids.front() == engine::cls_id, "a sequence does not start with [CLS]");
                fuzz::check(e.label >= 0 && e.label < classes, "a label outside the classes was accepted");
                for (auto id : e.ids) fuzz::check(id >= 0 && id < d.vocab_size, "an id outside the vocabulary");
            }
        fuzz::check(!d.train.empty() && !d.validation.empty(), "an empty split was accepted");
    } catch (const ConfigError& e) {
        const std::string m = e.what();
        fuzz::check(m.rfind("train.tsv:", 0) == 0 || m.rfind("valid.tsv:", 0) == 0, "a TSV error does not name its file");
        fuzz::check(m.find(" error: ") != std::string::npos, "a TSV error has no 'error:'");
    }
    fuzz_glue(train, "train.tsv", engine::GlueFormat{});
    fuzz_glue(validation, "pairs.tsv", engine::GlueFormat{{"sentence1", "sentence2"}, "label", {}});
    return 0;
}
