#include "config/diagnostics.hpp"

#include <algorithm>
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
    std::string out;
    for (const auto& d : items_) {
        if (!out.empty()) out += '\n';
        out += d.format();
    }
    return out;
}

void Diagnostics::throw_if_any() const {
    if (!items_.empty()) throw ConfigError(format());
}

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
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
