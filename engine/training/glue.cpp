#include "training/glue.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "transcode/errors.hpp"

namespace transcode::engine {

namespace {

std::vector<std::string_view> split_tabs(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t at = 0;
    for (;;) {
        const std::size_t tab = line.find('\t', at);
        fields.push_back(line.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at));
        if (tab == std::string_view::npos) return fields;
        at = tab + 1;
    }
}

std::string join(const std::vector<std::string>& items) {
    std::string s;
    for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
    return s;
}

}  // namespace

GlueSplit parse_glue_split(const std::string& text, const std::string& name, const WordPieceTokenizer& tokenizer, const GlueFormat& format,
                           std::int64_t S, std::int64_t num_classes) {
    if (format.text_columns.empty() || format.text_columns.size() > 2)
        throw ConfigError(fmt::format("{}: error: give one text column (a sentence) or two (a sentence pair), not {} (glue)", name, format.text_columns.size()));
    if (std::string_view(text).substr(0, 3) == "\xEF\xBB\xBF")
        throw ConfigError(fmt::format("{}:1: error: the file starts with a UTF-8 byte-order mark (EF BB BF); save it as UTF-8 without one (glue)", name));
    GlueSplit out;
    std::vector<std::string> header;
    std::vector<std::size_t> text_at;  // field index of each text column
    std::size_t label_at = 0;
    std::size_t at = 0;
    std::int64_t number = 0;
    const std::string_view all(text);
    while (at < all.size() || number == 0) {
        ++number;
        std::size_t end = all.find('\n', at);
        if (end == std::string_view::npos) end = all.size();
        const std::string_view line = all.substr(at, end - at);
        at = end + 1;
        if (!line.empty() && line.back() == '\r')
            throw ConfigError(fmt::format("{}:{}: error: the line ends with CR LF (Windows line ends); convert the file to LF line ends (glue)", name, number));
        if (const std::size_t bad = config::invalid_utf8_at(line); bad != std::string_view::npos)
            throw ConfigError(fmt::format("{}:{}: error: not valid UTF-8 (byte {} of the line is 0x{:02X}) (glue)", name, number, bad + 1,
                                          static_cast<unsigned char>(line[bad])));
        const auto fields = split_tabs(line);
        if (number == 1) {  // the header: the column names
            if (line.empty())
                throw ConfigError(fmt::format("{}:1: error: no header line: the first line names the columns, e.g. sentence<TAB>label (glue)", name));
            for (const auto f : fields) {
                if (std::find(header.begin(), header.end(), f) != header.end())
                    throw ConfigError(fmt::format("{}:1: error: column '{}' appears twice in the header (glue)", name, f));
                header.emplace_back(f);
            }
            auto column = [&](const std::string& wanted) {
                const auto it = std::find(header.begin(), header.end(), wanted);
                if (it != header.end()) return static_cast<std::size_t>(it - header.begin());
                const std::string near = config::closest_match(wanted, header);
                throw ConfigError(near.empty() ? fmt::format("{}:1: error: no column '{}' in the header (columns: {}) (glue)", name, wanted, join(header))
                                               : fmt::format("{}:1: error: no column '{}' in the header; did you mean '{}'? (columns: {}) (glue)", name,
                                                             wanted, near, join(header)));
            };
            for (const auto& c : format.text_columns) text_at.push_back(column(c));
            label_at = column(format.label_column);
            continue;
        }
        if (line.empty()) continue;
        if (fields.size() != header.size())
            throw ConfigError(fmt::format("{}:{}: error: {} field(s), but the header has {} columns (glue)", name, number, fields.size(), header.size()));
        // The label: an integer, or a name from label_names.
        const std::string_view label = fields[label_at];
        std::int64_t value = 0;
        if (format.label_names.empty()) {
            const auto [ptr, ec] = std::from_chars(label.data(), label.data() + label.size(), value);
            if (ec != std::errc() || ptr != label.data() + label.size() || label.empty())
                throw ConfigError(fmt::format("{}:{}: error: label '{}' is not an integer (glue)", name, number, label.substr(0, 40)));
        } else {
            const auto it = std::find(format.label_names.begin(), format.label_names.end(), label);
            if (it == format.label_names.end())
                throw ConfigError(fmt::format("{}:{}: error: label '{}' is not one of: {} (glue)", name, number, label.substr(0, 40), join(format.label_names)));
            value = it - format.label_names.begin();
        }
        if (value < 0 || value >= num_classes)
            throw ConfigError(fmt::format("{}:{}: error: label {} is out of range: the model has {} classes, labels are 0..{} (glue)", name, number, value,
                                          num_classes, num_classes - 1));
        // The text: one sentence or a pair.
        std::vector<std::int32_t> parts[2];
        for (std::size_t k = 0; k < text_at.size(); ++k) {
            parts[k] = tokenizer.tokenize(fields[text_at[k]]);
            if (parts[k].empty())
                throw ConfigError(fmt::format("{}:{}: error: column '{}' is empty (no tokens) (glue)", name, number, format.text_columns[k]));
        }
        Encoding e = tokenizer.frame(std::move(parts[0]), text_at.size() == 2 ? &parts[1] : nullptr, S);
        Example ex;
        ex.ids = std::move(e.ids);
        if (text_at.size() == 2) ex.segments = std::move(e.segments);  // one sentence: all 0, left empty
        ex.length = e.length;
        ex.label = static_cast<std::int32_t>(value);
        out.truncated += e.truncated ? 1 : 0;
        out.examples.push_back(std::move(ex));
    }
    if (out.examples.empty()) throw ConfigError(fmt::format("{}: error: no examples (glue)", name));
    return out;
}

Dataset read_glue(const std::filesystem::path& train, const std::filesystem::path& validation, const WordPieceTokenizer& tokenizer,
                  const GlueFormat& format, std::int64_t S, std::int64_t num_classes) {
    const std::string train_text = read_data_file(train);  // in this order: the training file's error first
    const std::string validation_text = read_data_file(validation);
    GlueSplit t = parse_glue_split(train_text, train.string(), tokenizer, format, S, num_classes);
    GlueSplit v = parse_glue_split(validation_text, validation.string(), tokenizer, format, S, num_classes);
    Dataset d;
    d.train = std::move(t.examples);
    d.validation = std::move(v.examples);
    d.truncated_train = t.truncated;
    d.truncated_validation = v.truncated;
    d.vocab_size = tokenizer.vocabulary().size();
    d.num_classes = num_classes;
    d.description = fmt::format("GLUE {} ({} examples, {} truncated) / {} ({} examples, {} truncated), WordPiece vocabulary {} ({}), {} tokens",
                                train.string(), d.train.size(), d.truncated_train, validation.string(), d.validation.size(), d.truncated_validation,
                                d.vocab_size, tokenizer.vocabulary().name(), S);
    return d;
}

}  // namespace transcode::engine
