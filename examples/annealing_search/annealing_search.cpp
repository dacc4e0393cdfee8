// annealing_search.annealing: simulated annealing as a transcode search plugin, built out of tree
// against the installed SDK. It sees the design space only through the SearchSpace/SearchAlgorithm
// interface (discrete knobs, ask/tell) and never evaluates anything itself.
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
        ParamSpec::integer("mutations", "knobs changed to make a neighbour of the current candidate").min(1).default_value(1),
        ParamSpec::integer("budget", "candidates asked in total; ask() returns none after that").unit("candidates").min(1).default_value(1000),
        ParamSpec::list("weights", "weight of each objective in the scalar energy (objectives are minimised); empty: all 1",
                        ParamSpec::floating("weight", "an objective's weight").min(0.0))
            .default_value(ValueList{}),
    };
}

// A uniform integer in [0, bound), bound >= 1, by bitmask rejection: the same numbers on every
// platform (std::uniform_int_distribution is implementation-defined).
std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t bound) {
    std::uint64_t mask = bound - 1;
    for (int shift = 1; shift < 64; shift *= 2) mask |= mask >> shift;
    for (;;) {
        const std::uint64_t x = rng() & mask;
        if (x < bound) return x;
    }
}

// A uniform double in [0, 1) from the top 53 bits of one draw.
double draw_unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

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

    void start(const SearchSpace& space, std::uint64_t seed) override {
        for (const Knob& knob : space.knobs)
            if (knob.choices == 0) throw ConfigError(std::string(plugin_name) + ": knob '" + knob.name + "' has 0 choices");
        space_ = space;
        rng_.seed(seed);
        temperature_ = t0_;
        asked_ = 0;
        current_.reset();
        started_ = true;
    }

    std::vector<Candidate> ask(std::size_t n) override {
        if (!started_) throw InternalError(std::string(plugin_name) + ": ask() called before start()");
        std::vector<Candidate> out;
        // A space of one candidate is exhausted after asking it once.
        const std::uint64_t limit = mutable_knobs().empty() ? std::min<std::uint64_t>(budget_, 1) : budget_;
        while (out.size() < n && asked_ < limit) {
            out.push_back(current_ ? neighbour(current_->candidate) : random_candidate());
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

    std::vector<std::size_t> mutable_knobs() const {
        std::vector<std::size_t> out;
        for (std::size_t i = 0; i < space_.knobs.size(); ++i)
            if (space_.knobs[i].choices > 1) out.push_back(i);
        return out;
    }

    Candidate random_candidate() {
        Candidate c(space_.knobs.size());
        for (std::size_t i = 0; i < c.size(); ++i) c[i] = static_cast<std::size_t>(draw_below(rng_, space_.knobs[i].choices));
        return c;
    }

    // Changes `mutations` distinct knobs (fewer if fewer can change) to another of their choices.
    Candidate neighbour(Candidate c) {
        std::vector<std::size_t> knobs = mutable_knobs();
        for (std::size_t m = 0; m < mutations_ && !knobs.empty(); ++m) {
            const std::size_t pick = static_cast<std::size_t>(draw_below(rng_, knobs.size()));
            const std::size_t k = knobs[pick];
            knobs.erase(knobs.begin() + static_cast<std::ptrdiff_t>(pick));
            const std::size_t shift = 1 + static_cast<std::size_t>(draw_below(rng_, space_.knobs[k].choices - 1));
            c[k] = (c[k] + shift) % space_.knobs[k].choices;
        }
        return c;
    }

    double t0_;
    double cooling_;
    std::size_t mutations_;
    std::uint64_t budget_;
    std::vector<double> weights_;
    SearchSpace space_;
    std::mt19937_64 rng_;
    double temperature_ = 0.0;
    std::uint64_t asked_ = 0;
    std::optional<State> current_;
    bool started_ = false;
};

const FactoryList* factories() {
    static const FactoryList list{Factory{
        PluginKind::search,
        plugin_name,
        "Simulated annealing over a discrete design space, on the ask/tell interface alone\n"
        "The first candidate is uniformly random; every later one is a neighbour of the current state (`mutations`\n"
        "knobs changed to another choice). Observations are taken in the order told: a better or equal energy (the\n"
        "weighted sum of the objectives) is accepted, a worse one with probability exp(-delta / T); T starts at\n"
        "initial_temperature and is multiplied by `cooling` after each observation. Infeasible observations are\n"
        "rejected. Reproducible for a seed on every platform. ask() returns none once `budget` candidates were asked.",
        annealing_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Annealing>(params); },
    }};
    return &list;
}

}  // namespace
}  // namespace example_annealing

TRANSCODE_PLUGIN("annealing_search", "0.1.0", &example_annealing::factories)
