// Helpers shared by the search algorithms of this library: enumerating canonical candidates,
// describing a space's size, and the set of candidates a search has asked (with draws of unasked
// ones). Internal to the library (not part of the SDK); the space itself is transcode::DesignSpace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "transcode/design_space.hpp"

namespace transcode::plugins::search {

/// A hash of a candidate's choice indices, for hash sets and maps keyed by canonical candidates.
struct CandidateHash {
    std::size_t operator()(const Candidate& c) const noexcept;
};
using CandidateSet = std::unordered_set<Candidate, CandidateHash>;

/// Steps `c` (canonical) to the next canonical candidate in lexicographic order, last knob fastest,
/// skipping every non-canonical point of the mixed-radix grid: the last active knob that can still
/// grow grows by one and every later knob restarts at 0. Returns false (and leaves `c` unchanged)
/// after the last candidate. Starting from all zeros, this visits each of space.count() candidates
/// exactly once.
bool next_canonical(const DesignSpace& space, Candidate& c);

/// The number of distinct candidates as text: exact ("1001000") below 2^64, else "about 10^40.3".
std::string count_text(const DesignSpace& space);

/// The canonical candidates a search has claimed (asked, or queued to be asked), and draws of
/// unclaimed ones. A space whose count() is known is exhausted once every candidate is claimed.
class ClaimedCandidates {
public:
    /// Consecutive DesignSpace::sample() draws that all hit claimed candidates before draw() turns to
    /// enumerating the unclaimed ones (when the space is small enough, see enumerate_limit).
    static constexpr int rejections_before_enumerating = 64;
    /// The largest space draw() enumerates; larger spaces keep rejecting, and every draw still ends
    /// since each unclaimed candidate has a positive probability under sample().
    static constexpr std::uint64_t enumerate_limit = std::uint64_t{1} << 20;

    void reset(const DesignSpace& space);
    bool contains(const Candidate& c) const { return claimed_.count(c) != 0; }
    /// Claims `c`; false when it was already claimed.
    bool claim(const Candidate& c);
    /// Gives a claimed `c` back, e.g. a design a search queued but will no longer ask.
    void release(const Candidate& c);
    std::size_t size() const { return claimed_.size(); }
    /// True when the space's count is known and every candidate is claimed.
    bool exhausted() const { return count_ && claimed_.size() >= *count_; }

    /// Claims and returns an unclaimed candidate, or nullopt when the space is exhausted. Draws
    /// DesignSpace::sample() (each active knob uniform) and rejects claimed ones; once
    /// rejections_before_enumerating draws in a row were all claimed and the space has at most
    /// enumerate_limit candidates, it lists the unclaimed candidates once and from then on draws
    /// uniformly among them, so that the tail of a small space costs O(1) per draw.
    std::optional<Candidate> draw(std::mt19937_64& rng);

private:
    const DesignSpace* space_ = nullptr;
    std::optional<std::uint64_t> count_;
    CandidateSet claimed_;
    bool enumerated_ = false;
    std::vector<Candidate> unclaimed_;  ///< after enumerating: may hold entries claimed since
};

}  // namespace transcode::plugins::search
