#include "training/dataset.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "common/random.hpp"
#include "transcode/errors.hpp"
#include "transcode/input_file.hpp"

namespace transcode::engine {

namespace {

Example frame(const std::vector<std::int32_t>& words, std::int32_t label, std::int64_t S) {
    Example e;
    e.label = label;
    e.ids.assign(static_cast<std::size_t>(S), pad_id);
    const std::size_t room = static_cast<std::size_t>(std::max<std::int64_t>(S - 2, 0));
    const std::size_t n = std::min(room, words.size());
    if (S >= 1) e.ids[0] = cls_id;
    for (std::size_t i = 0; i < n; ++i) e.ids[i + 1] = words[i];
    if (S >= 2) e.ids[n + 1] = sep_id;
    e.length = static_cast<std::int32_t>(std::min<std::int64_t>(S, static_cast<std::int64_t>(n) + 2));
    return e;
}

}  // namespace

Dataset make_synthetic_sentiment(const SyntheticTask& task, std::int64_t S) {
    if (S < 8) throw ConfigError("the built-in sentiment task needs sequences of at least 8 tokens");
    Dataset d;
    // Vocabulary layout after the 4 special ids: negators, intensifiers, positive, negative, filler.
    const std::int32_t negators = first_word_id, n_negators = 3;
    const std::int32_t intensifiers = negators + n_negators, n_intensifiers = 3;
    const std::int32_t positive = intensifiers + n_intensifiers;
    const std::int32_t negative = positive + static_cast<std::int32_t>(task.sentiment_words);
    const std::int32_t filler = negative + static_cast<std::int32_t>(task.sentiment_words);
    d.vocab_size = filler + task.filler_words;
    d.num_classes = 2;
    d.description = fmt::format("built-in sentiment task (negation and intensifier scope), vocabulary {}, {} train / {} validation, seed {}", d.vocab_size,
                                task.train, task.validation, task.seed);
    SplitMix64 rng(task.seed ^ 0x5e47u);
    auto below = [&](std::int64_t n) { return static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n)); };
    const std::int64_t max_words = S - 2;
    auto example = [&]() {
        for (;;) {
            const std::int64_t length = std::min<std::int64_t>(max_words, 6 + below(std::max<std::int64_t>(1, max_words - 5)));
            std::vector<std::int32_t> words;
            const std::int64_t phrases = 1 + below(3);
            // Positions of the phrases among the filler.
            std::vector<std::int64_t> at;
            for (std::int64_t p = 0; p < phrases; ++p) at.push_back(below(std::max<std::int64_t>(1, length - 3)));
            std::sort(at.begin(), at.end());
            std::size_t next = 0;
            while (static_cast<std::int64_t>(words.size()) < length) {
                if (next < at.size() && static_cast<std::int64_t>(words.size()) >= at[next] && static_cast<std::int64_t>(words.size()) + 3 <= length) {
                    ++next;
                    if (below(3) == 0) words.push_back(negators + static_cast<std::int32_t>(below(n_negators)));
                    if (below(3) == 0) words.push_back(intensifiers + static_cast<std::int32_t>(below(n_intensifiers)));
                    words.push_back((below(2) == 0 ? positive : negative) + static_cast<std::int32_t>(below(task.sentiment_words)));
                } else {
                    words.push_back(filler + static_cast<std::int32_t>(below(task.filler_words)));
                }
            }
            // The label is a function of the text: each sentiment word scores +1 or -1, doubled by
            // an intensifier right before it, and flipped by each negator among the two tokens
            // before it.
            auto in = [](std::int32_t id, std::int32_t lo, std::int64_t n) { return id >= lo && id < lo + n; };
            int score = 0;
            for (std::size_t i = 0; i < words.size(); ++i) {
                const bool pos = in(words[i], positive, task.sentiment_words);
                if (!pos && !in(words[i], negative, task.sentiment_words)) continue;
                int s = pos ? 1 : -1;
                if (i >= 1 && in(words[i - 1], intensifiers, n_intensifiers)) s *= 2;
                for (std::size_t back = 1; back <= 2 && back <= i; ++back)
                    if (in(words[i - back], negators, n_negators)) s = -s;
                score += s;
            }
            if (score == 0) continue;  // no ties: every label is decided by the text
            return frame(words, score > 0 ? 1 : 0, S);
        }
    };
    for (std::int64_t i = 0; i < task.train; ++i) d.train.push_back(example());
    for (std::int64_t i = 0; i < task.validation; ++i) d.validation.push_back(example());
    return d;
}

namespace {

struct TsvLine {
    std::int32_t label;
    std::vector<std::string> tokens;
};

std::vector<TsvLine> parse_lines(const std::string& text, const std::string& name, std::int64_t num_classes) {
    std::vector<TsvLine> out;
    std::istringstream in(text);
    std::string line;
    std::int64_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::size_t tab = line.find('\t');
        if (tab == std::string::npos)
            throw ConfigError(fmt::format("{}:{}: error: expected `label<TAB>tokens`, found no tab (tsv)", name, number));
        const std::string label = line.substr(0, tab);
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), value);
        if (ec != std::errc() || end != label.data() + label.size() || label.empty())
            throw ConfigError(fmt::format("{}:{}: error: label '{}' is not an integer (tsv)", name, number, label.substr(0, 40)));
        if (value < 0 || value >= num_classes)
            throw ConfigError(fmt::format("{}:{}: error: label {} is out of range: the model has {} classes, labels are 0..{} (tsv)", name, number, value,
                                          num_classes, num_classes - 1));
        TsvLine l{static_cast<std::int32_t>(value), {}};
        std::istringstream words(line.substr(tab + 1));
        std::string w;
        while (words >> w) l.tokens.push_back(w);
        if (l.tokens.empty()) throw ConfigError(fmt::format("{}:{}: error: no tokens after the label (tsv)", name, number));
        out.push_back(std::move(l));
    }
    if (out.empty()) throw ConfigError(fmt::format("{}: error: no examples (tsv)", name));
    return out;
}

}  // namespace

std::string read_data_file(const std::filesystem::path& p) {
    std::string text;
    const std::string problem = read_input_file(p, max_data_file_bytes, text);
    if (problem.empty()) return text;
    if (problem == "not found") throw ConfigError(fmt::format("{}: error: cannot open the data file (file)", p.string()));
    if (is_size_problem(problem)) throw ConfigError(fmt::format("{}: error: the data file {} (limit)", p.string(), problem));
    throw ConfigError(fmt::format("{}: error: the data file {} (file)", p.string(), problem));
}

Dataset parse_tsv(const std::string& train_text, const std::string& train_name, const std::string& validation_text, const std::string& validation_name,
                  std::int64_t S, std::int64_t num_classes) {
    const auto train = parse_lines(train_text, train_name, num_classes);
    const auto validation = parse_lines(validation_text, validation_name, num_classes);
    Dataset d;
    d.num_classes = num_classes;
    std::unordered_map<std::string, std::int32_t> vocab;
    auto id_of = [&](const std::string& w, bool grow) {
        auto it = vocab.find(w);
        if (it != vocab.end()) return it->second;
        if (!grow) return unk_id;
        const auto id = static_cast<std::int32_t>(first_word_id + vocab.size());
        vocab.emplace(w, id);
        return id;
    };
    for (const auto& l : train) {
        std::vector<std::int32_t> ids;
        for (const auto& w : l.tokens) ids.push_back(id_of(w, true));
        d.train.push_back(frame(ids, l.label, S));
    }
    for (const auto& l : validation) {
        std::vector<std::int32_t> ids;
        for (const auto& w : l.tokens) ids.push_back(id_of(w, false));
        d.validation.push_back(frame(ids, l.label, S));
    }
    d.vocab_size = first_word_id + static_cast<std::int64_t>(vocab.size());
    d.description = fmt::format("TSV {} ({} examples) / {} ({} examples), vocabulary {}", train_name, d.train.size(), validation_name, d.validation.size(),
                                d.vocab_size);
    return d;
}

Dataset read_tsv(const std::filesystem::path& train, const std::filesystem::path& validation, std::int64_t S, std::int64_t num_classes) {
    const std::string train_text = read_data_file(train);  // in this order: the training file's error first
    const std::string validation_text = read_data_file(validation);
    return parse_tsv(train_text, train.string(), validation_text, validation.string(), S, num_classes);
}

}  // namespace transcode::engine
