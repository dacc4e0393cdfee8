// fuzz_tsv: bytes -> the dataset TSV reader (engine::parse_tsv).
//
// The input is the training text, a NUL byte, then the validation text (no NUL: the same text for
// both). A ConfigError is the expected answer to bad data, and must read `NAME:LINE: error:` or
// `NAME: error:`. Accepted data must be framed exactly: every sequence has the sequence length,
// starts with [CLS], holds only ids below the vocabulary size, and every label is a class.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "training/dataset.hpp"

using namespace transcode;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

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
    return 0;
}
