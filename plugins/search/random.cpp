#include "random.hpp"

#include <algorithm>
#include <memory>
#include <string>

namespace transcode::plugins::search {

namespace {

constexpr const char* algorithm = "random search";

ParamSchema random_schema() {
    return {
        ParamSpec::boolean("dedupe",
                           "never ask the same (canonical) candidate twice: repeats are rejected, so ask() returns "
                           "fewer candidates (then none) once the whole space was asked. false draws with replacement "
                           "and never runs out")
            .default_value(true),
    };
}

}  // namespace

RandomSearch::RandomSearch(const Params& params) : dedupe_(params.get_bool("dedupe")) {}

void RandomSearch::start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& /*budget*/) {
    space_ = &space;
    rng_.seed(seed);
    asked_.reset(space);
    observations_ = 0;
}

std::vector<Candidate> RandomSearch::ask(std::size_t n) {
    if (space_ == nullptr) throw InternalError(std::string(algorithm) + ": ask() called before start()");
    std::vector<Candidate> out;
    out.reserve(std::min<std::size_t>(n, 4096));
    while (out.size() < n) {
        if (!dedupe_) {
            out.push_back(space_->sample(rng_));
            continue;
        }
        std::optional<Candidate> c = asked_.draw(rng_);
        if (!c) break;  // every candidate of the space was asked
        out.push_back(std::move(*c));
    }
    return out;
}

void RandomSearch::tell(const std::vector<Observation>& results) { observations_ += results.size(); }

Factory random_factory() {
    return Factory{
        PluginKind::search,
        "search.random",
        "Random: random candidates, each active knob uniform over its choices, reproducible for a seed on every platform\n"
        "Draws come from std::mt19937_64 seeded by start() through the SDK's draw_below (bitmask rejection), whose\n"
        "output is the same with every standard library. A knob that another knob switches off is not drawn, so with\n"
        "conditional knobs candidates are not equally likely (a 2-layer design is as likely as all 12-layer designs\n"
        "together). With dedupe (the default) no canonical candidate is asked twice: repeats are rejected, and ask()\n"
        "returns fewer than n, then none, once the space is exhausted. Observations are accepted and counted but do\n"
        "not steer the draws. Calling start() again starts over.",
        random_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<RandomSearch>(params); },
    };
}

}  // namespace transcode::plugins::search
