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
    if (max < 1) throw ConfigError("max_candidates", std::string(algorithm) + ": max_candidates must be >= 1, got " + std::to_string(max));
    max_candidates_ = static_cast<std::uint64_t>(max);
}

void GridSearch::start(const DesignSpace& space, std::uint64_t /*seed*/, const SearchBudget& /*budget*/) {
    const std::optional<std::uint64_t> count = space.count();
    if (!count || *count > max_candidates_)
        throw ConfigError(std::string(algorithm) + ": the space has " + count_text(space) + " candidates, more than max_candidates " +
                          std::to_string(max_candidates_));
    space_ = &space;
    next_.assign(space.size(), 0);  // all zeros is canonical: the first candidate
    remaining_ = *count;
    observations_ = 0;
}

std::vector<Candidate> GridSearch::ask(std::size_t n) {
    if (space_ == nullptr) throw InternalError(std::string(algorithm) + ": ask() called before start()");
    std::vector<Candidate> out;
    out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_)));
    while (out.size() < n && remaining_ > 0) {
        out.push_back(next_);
        --remaining_;
        // After the last candidate next_canonical() returns false; remaining_ is then 0.
        if (!next_canonical(*space_, next_) && remaining_ != 0)
            throw InternalError(std::string(algorithm) + ": enumeration ended " + std::to_string(remaining_) + " candidates before count()");
    }
    return out;
}

void GridSearch::tell(const std::vector<Observation>& results) { observations_ += results.size(); }

Factory grid_factory() {
    return Factory{
        PluginKind::search,
        "search.grid",
        "Grid: ask every distinct candidate of the space exactly once, in lexicographic order (last knob fastest)\n"
        "For knobs of 2 and 3 choices the order is [0,0] [0,1] [0,2] [1,0] [1,1] [1,2]; then ask() returns nothing.\n"
        "Candidates are canonical: a knob that another knob switches off stays 0, so designs that differ only in\n"
        "inactive knobs are asked once. A space without knobs has one candidate, the empty one. The seed is not used;\n"
        "observations are accepted and counted but do not change the order. start() refuses a space of more than\n"
        "max_candidates candidates, naming its size. Calling start() again starts over.",
        grid_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<GridSearch>(params); },
    };
}

}  // namespace transcode::plugins::search
