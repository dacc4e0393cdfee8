// The `search` plugin kind: an ask/tell optimiser that never calls the evaluator itself.
//
// The engine owns the loop: it asks for candidates, evaluates them (in parallel, in any order),
// and tells the search what it measured. A search sees only the DesignSpace and the observations,
// never what the knobs mean, so one search plugin works on model-only, accelerator-only and joint
// spaces alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "transcode/design_space.hpp"
#include "transcode/plugin.hpp"

namespace transcode {

/// What the engine measured for one candidate.
///  * `score`: the weighted performance score of the experiment's objective, to MAXIMISE.
///  * `objectives`: the objectives to MINIMISE, normalised by the experiment's normalisers, in the
///    order (1 - accuracy, latency, energy, area). Multi-objective searches use these.
///  * `violation`: how far the candidate is from feasible; 0 when ok.
///  * `score_stddev`: the uncertainty of `score` that comes from the accuracy estimate
///    (w_accuracy * the estimator's standard deviation); 0 when the accuracy is exact or unknown.
/// The engine applies constrained domination (Deb 2000) to both score and objectives, so a search
/// that just maximises `score` or Pareto-sorts `objectives` already ranks every feasible candidate
/// above every infeasible one, and infeasible ones by their violation:
///  * an infeasible candidate's score is the experiment's penalty minus its violation, and the
///    penalty lies below every feasible score;
///  * each of its objectives is `over_budget_objective_offset + violation`, above every feasible
///    objective.
/// Over a budget, the violation is the sum of the relative excesses (area 60 against a budget of 50
/// adds 0.2), at most 999; a candidate whose costs could not be measured (refused by a plugin, an op
/// no unit runs, no accuracy) has violation `unmeasured_violation`.
struct Observation {
    Candidate candidate;
    double score = 0;
    std::vector<double> objectives;
    bool ok = true;
    std::string reason;
    double violation = 0;
    double score_stddev = 0;
};

/// The objective value for a candidate told without objectives (searches fill it in themselves).
inline constexpr double infeasible_objective = 1e9;
/// Added to the violation on every objective of an infeasible candidate.
inline constexpr double over_budget_objective_offset = 1e6;
/// The violation of a candidate whose costs could not be measured.
inline constexpr double unmeasured_violation = 1000;

/// What the engine will spend on the search, given at start().
struct SearchBudget {
    std::size_t evaluations = 0;  ///< candidates the engine will ask for in all (search.evaluations)
    std::size_t batch = 1;        ///< candidates per ask (search.batch); the last ask may be shorter
};

class BOOST_SYMBOL_VISIBLE SearchAlgorithm : public PluginObject {
public:
    /// Called before the first ask; calling it again restarts the search. `space` outlives the
    /// search's use of it. `seed` makes the search reproducible. `budget` says how many
    /// evaluations the engine will ask for in all and in batches of how many; the number told so
    /// far is the search's own count of observations (a resumed run replays them through tell).
    /// A space without knobs has exactly one candidate, the empty one. Throws ConfigError when the
    /// search cannot run on the space (e.g. grid on a space too large to enumerate).
    virtual void start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& budget) = 0;
    /// Up to `n` canonical candidates to evaluate next; fewer (or none) when the search is
    /// exhausted. The engine tells the results of one ask before the next ask. Calling ask()
    /// before start() is a bug in the caller (InternalError).
    virtual std::vector<Candidate> ask(std::size_t n) = 0;
    /// The results of candidates from earlier asks, in the order they were asked. On --resume the
    /// engine replays stored results through ask/tell in their original rounds.
    virtual void tell(const std::vector<Observation>& results) = 0;
};

}  // namespace transcode
