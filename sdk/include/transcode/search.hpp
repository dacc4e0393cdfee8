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
/// An infeasible candidate has ok = false, a reason, the experiment's penalty as its score and
/// every objective at `infeasible_objective`; one over a budget, whose costs were measured, gets
/// `over_budget_objective_offset` plus its normalised objectives instead, so that it ranks after
/// every feasible candidate, before those that could not be measured, and by how far it is off.
struct Observation {
    Candidate candidate;
    double score = 0;
    std::vector<double> objectives;
    bool ok = true;
    std::string reason;
};

/// The objective value an infeasible candidate gets in Observation::objectives.
inline constexpr double infeasible_objective = 1e9;
/// Added to the measured objectives of a candidate over a budget.
inline constexpr double over_budget_objective_offset = 1e6;

class BOOST_SYMBOL_VISIBLE SearchAlgorithm : public PluginObject {
public:
    /// Called before the first ask; calling it again restarts the search. `space` outlives the
    /// search's use of it. `seed` makes the search reproducible. A space without knobs has exactly
    /// one candidate, the empty one. Throws ConfigError when the search cannot run on the space
    /// (e.g. grid on a space too large to enumerate).
    virtual void start(const DesignSpace& space, std::uint64_t seed) = 0;
    /// Up to `n` canonical candidates to evaluate next; fewer (or none) when the search is
    /// exhausted. The engine tells the results of one ask before the next ask. Calling ask()
    /// before start() is a bug in the caller (InternalError).
    virtual std::vector<Candidate> ask(std::size_t n) = 0;
    /// The results of candidates from earlier asks, in the order they were asked. On --resume the
    /// engine replays stored results through ask/tell in their original rounds.
    virtual void tell(const std::vector<Observation>& results) = 0;
};

}  // namespace transcode
