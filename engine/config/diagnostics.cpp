#include "config/diagnostics.hpp"

#include <algorithm>
#include <regex>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace transcode::config {

std::string Diagnostic::format() const {
    return fmt::format("{}:{}:{}: error: {}: {} ({})", where.file, where.line, where.column,
                       path.empty() ? "(document)" : path, message, rule);
}

void Diagnostics::add(Location where, std::string path, std::string message, std::string rule) {
    items_.push_back(Diagnostic{std::move(where), std::move(path), std::move(message), std::move(rule)});
}

std::string Diagnostics::format() const {
    // File order: files in the order they were first reported, then line and column.
    std::vector<std::string> files;
    for (const auto& d : items_)
        if (std::find(files.begin(), files.end(), d.where.file) == files.end()) files.push_back(d.where.file);
    auto rank = [&](const Diagnostic& d) {
        return std::make_tuple(std::find(files.begin(), files.end(), d.where.file) - files.begin(), d.where.line, d.where.column);
    };
    std::vector<Diagnostic> sorted = items_;
    std::stable_sort(sorted.begin(), sorted.end(), [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
    std::string out;
    const std::size_t shown = std::min(sorted.size(), max_shown);
    for (std::size_t i = 0; i < shown; ++i) {
        if (!out.empty()) out += '\n';
        out += sorted[i].format();
    }
    if (sorted.size() > shown)
        out += fmt::format("\n... and {} more error(s), not shown: fix the {} above first (at most {} are listed, like a compiler's error limit)",
                           sorted.size() - shown, shown, max_shown);
    return out;
}

void Diagnostics::throw_if_any() const {
    if (!items_.empty()) throw ConfigError(format());
}

std::vector<Diagnostic> parse_diagnostics(std::string_view text) {
    // FILE may itself hold ':' (a path), so the line and column are the last two numbers before
    // ": error: "; the rule is the last parenthesised word, the path runs to the first ": ".
    static const std::regex line_re(R"(^(.*):(\d+):(\d+): error: (.*?): (.*) \(([A-Za-z0-9_-]+)\)$)");
    std::vector<Diagnostic> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string line(text.substr(start, end - start));
        std::smatch m;
        if (std::regex_match(line, m, line_re)) {
            Diagnostic d;
            d.where = Location{m[1].str(), std::stoi(m[2].str()), std::stoi(m[3].str())};
            d.path = m[4].str() == "(document)" ? "" : m[4].str();
            d.message = m[5].str();
            d.rule = m[6].str();
            out.push_back(std::move(d));
        }
        start = end + 1;
    }
    return out;
}

namespace {
// Optimal-string-alignment distance: insertions, deletions, substitutions and transpositions of
// adjacent characters ("sede" -> "seed") each cost one edit.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}
}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
    const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
    std::string best;
    std::size_t best_d = limit + 1;
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

}  // namespace transcode::config
