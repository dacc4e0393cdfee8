// search.grid: enumerates a whole discrete space, in mixed-radix order with the last knob fastest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "transcode/plugin.hpp"
#include "transcode/search.hpp"

namespace transcode::plugins::search {

/// Asks every candidate of the space exactly once, in mixed-radix order (last knob fastest), then
/// nothing. The seed is not used. start() refuses spaces of more than `max_candidates` candidates.
class GridSearch final : public SearchAlgorithm {
public:
    explicit GridSearch(const Params& params);

    void start(const SearchSpace& space, std::uint64_t seed) override;
    std::vector<Candidate> ask(std::size_t n) override;
    void tell(const std::vector<Observation>& results) override;

private:
    std::uint64_t max_candidates_;
    bool started_ = false;
    std::vector<std::size_t> choices_;  ///< per knob
    Candidate next_;                    ///< the next candidate to ask, valid while remaining_ > 0
    std::uint64_t remaining_ = 0;
    std::uint64_t observations_ = 0;
};

/// The factory of search.grid: kind, name, doc, parameter schema and create function.
Factory grid_factory();

}  // namespace transcode::plugins::search
