// Helpers shared by the search algorithms of this library: checking a space, counting its
// candidates, and mixed-radix indexing. Internal to the library (not part of the SDK).
//
// Candidates are numbered in mixed-radix order with the last knob fastest: for knobs of 2 and 3
// choices, index 0 is [0,0], 1 is [0,1], 2 is [0,2], 3 is [1,0], ... A space without knobs has
// exactly one candidate, the empty one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "transcode/search.hpp"

namespace transcode::plugins::search {

/// Throws ConfigError when a knob has no choices:
/// "<algorithm>: knob 'NAME' has 0 choices; every knob needs at least one".
void check_space(const SearchSpace& space, std::string_view algorithm);

/// The number of candidates of a checked space, or nullopt when it is 2^64 or more.
std::optional<std::uint64_t> candidate_count(const SearchSpace& space);

/// The exact number of candidates of a checked space, in decimal, however large.
std::string candidate_count_decimal(const SearchSpace& space);

/// The candidate with mixed-radix index `index` (which must be below the candidate count).
Candidate candidate_at(const SearchSpace& space, std::uint64_t index);

}  // namespace transcode::plugins::search
