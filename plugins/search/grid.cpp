#include "grid.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include "space.hpp"

namespace transcode::plugins::search {

namespace {

constexpr const char* algorithm = "grid search";

ParamSchema grid_schema() {
    return {
        ParamSpec::integer("max_candidates",
                           "the largest space to enumerate: start() refuses a space with more candidates than this, "
                           "since the search could not finish")
            .unit("candidates")
            .min(1)
            .default_value(1000000),
    };
}

}  // namespace

GridSearch::GridSearch(const Params& params) {
    const std::int64_t max = params.get_int("max_candidates");
    if (max < 1) throw ConfigError(std::string(algorithm) + ": max_candidates must be >= 1, got " + std::to_string(max));
    max_candidates_ = static_cast<std::uint64_t>(max);
}

void GridSearch::start(const SearchSpace& space, std::uint64_t /*seed*/) {
    check_space(space, algorithm);
    const std::optional<std::uint64_t> count = candidate_count(space);
    if (!count || *count > max_candidates_)
        throw ConfigError(std::string(algorithm) + ": the space has " + candidate_count_decimal(space) +
                          " candidates, more than max_candidates " + std::to_string(max_candidates_));
    choices_.clear();
    for (const Knob& knob : space.knobs) choices_.push_back(knob.choices);
    next_.assign(choices_.size(), 0);
    remaining_ = *count;
    observations_ = 0;
    started_ = true;
}

std::vector<Candidate> GridSearch::ask(std::size_t n) {
    if (!started_) throw InternalError(std::string(algorithm) + ": ask() called before start()");
    std::vector<Candidate> out;
    out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_)));
    while (out.size() < n && remaining_ > 0) {
        out.push_back(next_);
        --remaining_;
        // Add one in mixed radix, last knob fastest. After the last candidate this wraps to all
        // zeros, which is never asked since remaining_ is then 0.
        for (std::size_t i = next_.size(); i-- > 0;) {
            if (++next_[i] < choices_[i]) break;
            next_[i] = 0;
        }
    }
    return out;
}

void GridSearch::tell(const std::vector<Observation>& results) { observations_ += results.size(); }

Factory grid_factory() {
    return Factory{
        PluginKind::search,
        "search.grid",
        "Grid: ask every candidate of the space exactly once, in mixed-radix order (last knob fastest)\n"
        "For knobs of 2 and 3 choices the order is [0,0] [0,1] [0,2] [1,0] [1,1] [1,2]; then ask() returns nothing.\n"
        "A space without knobs has one candidate, the empty one. The seed is not used; observations are accepted\n"
        "and counted but do not change the order. start() refuses a knob with 0 choices, and a space of more than\n"
        "max_candidates candidates. Calling start() again starts over.",
        grid_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<GridSearch>(params); },
    };
}

}  // namespace transcode::plugins::search
