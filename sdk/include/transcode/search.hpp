// The `search` plugin kind: an ask/tell optimiser that never calls the evaluator itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "transcode/plugin.hpp"

namespace transcode {

/// One discrete knob of a design space: its name and how many choices it has.
struct Knob {
    std::string name;
    std::size_t choices = 0;
};

/// The shape of a discrete design space, as a search algorithm sees it. First form: a product of
/// discrete knobs. (The co-design issue extends this to a full DesignSpace interface.)
struct SearchSpace {
    std::vector<Knob> knobs;
};

/// A point in the space: one choice index per knob.
using Candidate = std::vector<std::size_t>;

/// The outcome of evaluating one candidate. Objectives are minimised. An infeasible candidate
/// has ok = false and a reason.
struct Observation {
    Candidate candidate;
    std::vector<double> objectives;
    bool ok = true;
    std::string reason;
};

class BOOST_SYMBOL_VISIBLE SearchAlgorithm : public PluginObject {
public:
    /// Called before the first ask; calling it again restarts the search. `seed` makes the search
    /// reproducible. A space without knobs has exactly one candidate, the empty one.
    virtual void start(const SearchSpace& space, std::uint64_t seed) = 0;
    /// Up to `n` candidates to evaluate next; fewer (or none) when the search is exhausted.
    /// Calling ask() before start() is a bug in the caller (InternalError).
    virtual std::vector<Candidate> ask(std::size_t n) = 0;
    /// The results of candidates from earlier asks, in any order.
    virtual void tell(const std::vector<Observation>& results) = 0;
};

}  // namespace transcode
