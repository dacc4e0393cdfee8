// Diagnostics: located configuration errors, collected so that all of a file's errors are
// reported together.
//
// Every message reads   FILE:LINE:COL: error: yaml.path: what is wrong (rule)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "transcode/errors.hpp"

namespace transcode::config {

/// Where a value came from: a file (1-based line and column), or a command-line override
/// (file "--set", line 1, column = 1-based position in the override text).
struct Location {
    std::string file;
    int line = 0;
    int column = 0;
};

struct Diagnostic {
    Location where;
    std::string path;     ///< dotted YAML path, e.g. "pruning.params.tau_t", or "(document)"
    std::string message;  ///< what is wrong, with a hint where one fits
    std::string rule;     ///< short rule id: unknown-key, type, range, required, choice, syntax, ...
    std::string format() const;
};

class Diagnostics {
public:
    void add(Location where, std::string path, std::string message, std::string rule);
    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }
    const std::vector<Diagnostic>& items() const { return items_; }
    /// At most this many diagnostics are listed by format(); a line then says how many more
    /// there are (a file with 100,000 unknown keys gives 51 lines, not 100,000).
    static constexpr std::size_t max_shown = 50;
    /// The diagnostics in file order, one per line (the first max_shown of them).
    std::string format() const;
    /// Throws a ConfigError carrying every diagnostic when there is any.
    void throw_if_any() const;

private:
    std::vector<Diagnostic> items_;
};

/// The diagnostics in the text of a ConfigError: every line that reads
/// `FILE:LINE:COL: error: path: message (rule)`, back into its fields (for callers that expose them
/// as data, such as the Python module). Other lines (a message without a location) are skipped.
std::vector<Diagnostic> parse_diagnostics(std::string_view text);

/// The closest of `candidates` to `word` when it is close enough to be a likely typo
/// (at most max(1, |word| / 3) edits, a swap of adjacent letters counting as one); empty otherwise.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace transcode::config
