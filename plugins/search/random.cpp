#include "random.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <memory>
#include <string>

#include "space.hpp"

namespace transcode::plugins::search {

namespace {

constexpr const char* algorithm = "random search";

ParamSchema random_schema() {
    return {
        ParamSpec::boolean("dedupe",
                           "never ask the same candidate twice while unseen ones remain: draw without replacement, so "
                           "ask() returns fewer candidates (then none) once the whole space was asked. false draws "
                           "with replacement and never runs out")
            .default_value(true),
    };
}

static_assert(std::mt19937_64::min() == 0 && std::mt19937_64::max() == std::numeric_limits<std::uint64_t>::max(),
              "draw_below relies on 64 uniform random bits per draw");

// A uniform integer in [0, bound), bound >= 1. Bitmask rejection: keep the bits needed for
// bound - 1 and retry values past it (fewer than 2 draws on average). Unlike
// std::uniform_int_distribution, whose algorithm each standard library chooses, this gives the same
// numbers on every platform. A bound of 1 draws nothing.
std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t bound) {
    const std::uint64_t max = bound - 1;
    if (max == 0) return 0;
    const std::uint64_t mask = std::numeric_limits<std::uint64_t>::max() >> std::countl_zero(max);
    for (;;) {
        const std::uint64_t x = static_cast<std::uint64_t>(rng()) & mask;
        if (x <= max) return x;
    }
}

}  // namespace

RandomSearch::RandomSearch(const Params& params) : dedupe_(params.get_bool("dedupe")) {}

void RandomSearch::start(const SearchSpace& space, std::uint64_t seed) {
    check_space(space, algorithm);
    space_ = space;
    rng_.seed(seed);
    count_ = candidate_count(space);
    drawn_ = 0;
    moved_.clear();
    seen_.clear();
    observations_ = 0;
    started_ = true;
}

// One uniform choice per knob, first knob first: a uniform candidate of the whole space.
Candidate RandomSearch::draw_digits() {
    Candidate candidate(space_.knobs.size());
    for (std::size_t i = 0; i < candidate.size(); ++i)
        candidate[i] = static_cast<std::size_t>(draw_below(rng_, static_cast<std::uint64_t>(space_.knobs[i].choices)));
    return candidate;
}

// One step of a Fisher-Yates shuffle of the indices [0, count_), keeping only the moved entries.
std::optional<Candidate> RandomSearch::draw_unseen_index() {
    if (drawn_ == *count_) return std::nullopt;
    const std::uint64_t pick = drawn_ + draw_below(rng_, *count_ - drawn_);
    const auto at = [this](std::uint64_t position) {
        const auto it = moved_.find(position);
        return it == moved_.end() ? position : it->second;
    };
    const std::uint64_t index = at(pick);
    if (pick != drawn_) moved_[pick] = at(drawn_);
    moved_.erase(drawn_);  // positions before drawn_ are never read again
    ++drawn_;
    return candidate_at(space_, index);
}

std::vector<Candidate> RandomSearch::ask(std::size_t n) {
    if (!started_) throw InternalError(std::string(algorithm) + ": ask() called before start()");
    std::vector<Candidate> out;
    std::uint64_t limit = n;
    if (dedupe_ && count_) limit = std::min(limit, *count_ - drawn_);
    out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(limit, 4096)));
    while (out.size() < limit) {
        if (!dedupe_) {
            out.push_back(draw_digits());
        } else if (count_) {
            out.push_back(*draw_unseen_index());
        } else {
            // 2^64 candidates or more: a repeat is all but impossible, but still never returned.
            Candidate candidate = draw_digits();
            if (seen_.insert(candidate).second) out.push_back(std::move(candidate));
        }
    }
    return out;
}

void RandomSearch::tell(const std::vector<Observation>& results) { observations_ += results.size(); }

Factory random_factory() {
    return Factory{
        PluginKind::search,
        "search.random",
        "Random: uniformly random candidates, reproducible for a seed on every platform\n"
        "Draws come from std::mt19937_64 seeded by start() and an unbiased bounded draw of its own (not\n"
        "std::uniform_int_distribution, whose output differs between standard libraries). With dedupe (the default)\n"
        "no candidate is asked twice, and ask() returns fewer than n, then none, once the space is exhausted.\n"
        "Observations are accepted and counted but do not steer the draws. Calling start() again starts over.\n"
        "start() refuses a knob with 0 choices.",
        random_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<RandomSearch>(params); },
    };
}

}  // namespace transcode::plugins::search
