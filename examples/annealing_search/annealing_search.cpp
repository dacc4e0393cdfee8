// annealing_search.annealing: simulated annealing as a transcode search plugin, built out of tree
// against the installed SDK. It sees the design space only through the DesignSpace/SearchAlgorithm
// interface (discrete knobs, some conditional; ask/tell) and never evaluates anything itself.
//
// Regions between `[guide:NAME]` markers are copied verbatim into docs/plugin-guide.md
// (scripts/test-install.sh checks that they match).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "transcode/sdk.hpp"

namespace example_annealing {
namespace {

using namespace transcode;

constexpr const char* plugin_name = "annealing_search.annealing";

ParamSchema annealing_schema() {
    return {
        ParamSpec::floating("initial_temperature", "temperature of the first step, in units of the (weighted) objective")
            .greater_than(0.0)
            .default_value(1.0),
        ParamSpec::floating("cooling", "factor applied to the temperature after each observation (geometric cooling)")
            .greater_than(0.0)
            .max(1.0)
            .default_value(0.95),
        ParamSpec::integer("mutations", "single-knob moves (DesignSpace::mutate) that make a neighbour of the current candidate")
            .min(1)
            .default_value(1),
        ParamSpec::integer("budget", "candidates asked in total; ask() returns none after that").unit("candidates").min(1).default_value(1000),
        ParamSpec::list("weights", "weight of each objective in the scalar energy (objectives are minimised); empty: all 1",
                        ParamSpec::floating("weight", "an objective's weight").min(0.0))
            .default_value(ValueList{}),
    };
}

// [guide:search-class]
class Annealing final : public SearchAlgorithm {
public:
    explicit Annealing(const Params& p)
        : t0_(p.get_float("initial_temperature")),
          cooling_(p.get_float("cooling")),
          mutations_(static_cast<std::size_t>(p.get_int("mutations"))),
          budget_(static_cast<std::uint64_t>(p.get_int("budget"))) {
        for (const Value& w : p.get_list("weights")) weights_.push_back(w.as_float());
    }

    // The DesignSpace checked its knobs already (every knob has choices, parents come first).
    void start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& /*budget*/) override {
        space_ = &space;
        rng_.seed(seed);
        temperature_ = t0_;
        asked_ = 0;
        current_.reset();
    }

    std::vector<Candidate> ask(std::size_t n) override {
        if (space_ == nullptr) throw InternalError(std::string(plugin_name) + ": ask() called before start()");
        std::vector<Candidate> out;
        // A space of one candidate is exhausted after asking it once.
        const std::uint64_t limit = space_->count() == 1u ? std::min<std::uint64_t>(budget_, 1) : budget_;
        while (out.size() < n && asked_ < limit) {
            // The SDK's sample() and mutate() draw through draw_below/draw_unit: a seed gives the
            // same candidates with every standard library.
            out.push_back(current_ ? neighbour(current_->candidate) : space_->sample(rng_));
            ++asked_;
        }
        return out;
    }

    // Metropolis acceptance, one observation at a time, cooling after each.
    void tell(const std::vector<Observation>& results) override {
        for (const Observation& o : results) {
            if (o.ok) {
                const double e = energy(o);
                if (!current_ || e <= current_->energy || draw_unit(rng_) < std::exp((current_->energy - e) / temperature_))
                    current_ = State{o.candidate, e};
            }
            temperature_ = std::max(temperature_ * cooling_, std::numeric_limits<double>::min());
        }
    }
    // [/guide:search-class]

private:
    struct State {
        Candidate candidate;
        double energy = 0.0;
    };

    double energy(const Observation& o) const {
        if (!weights_.empty() && weights_.size() != o.objectives.size())
            throw ConfigError("weights", "weights has " + std::to_string(weights_.size()) + " entries but the search has " +
                                             std::to_string(o.objectives.size()) + " objectives");
        double e = 0.0;
        for (std::size_t i = 0; i < o.objectives.size(); ++i) e += (weights_.empty() ? 1.0 : weights_[i]) * o.objectives[i];
        return e;
    }

    // `mutations` single-knob moves; a move that switches knobs on draws their choices.
    Candidate neighbour(Candidate c) {
        for (std::size_t m = 0; m < mutations_; ++m) c = space_->mutate(c, 0.0, rng_);
        return c;
    }

    double t0_;
    double cooling_;
    std::size_t mutations_;
    std::uint64_t budget_;
    std::vector<double> weights_;
    const DesignSpace* space_ = nullptr;  // set by start(); the engine keeps the space alive
    std::mt19937_64 rng_;
    double temperature_ = 0.0;
    std::uint64_t asked_ = 0;
    std::optional<State> current_;
};

const FactoryList* factories() {
    static const FactoryList list{Factory{
        PluginKind::search,
        plugin_name,
        "Simulated annealing over a discrete design space, on the ask/tell interface alone\n"
        "The first candidate is random (DesignSpace::sample); every later one is a neighbour of the current state\n"
        "(`mutations` single-knob moves with DesignSpace::mutate). Observations are taken in the order told: a better\n"
        "or equal energy (the weighted sum of the objectives, which are minimised) is accepted, a worse one with\n"
        "probability exp(-delta / T); T starts at initial_temperature and is multiplied by `cooling` after each\n"
        "observation. Infeasible observations are rejected. Reproducible for a seed on every platform. ask() returns\n"
        "none once `budget` candidates were asked.",
        annealing_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Annealing>(params); },
    }};
    return &list;
}

}  // namespace
}  // namespace example_annealing

TRANSCODE_PLUGIN("annealing_search", "0.1.0", &example_annealing::factories)
