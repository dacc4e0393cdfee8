// search.grid: enumerates every distinct candidate of a design space once, in lexicographic order
// with the last knob fastest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "transcode/plugin.hpp"
#include "transcode/search.hpp"

namespace transcode::plugins::search {

/// Asks every canonical candidate of the space exactly once, in lexicographic order (last knob
/// fastest; points of the mixed-radix grid that differ only in inactive knobs are skipped), then
/// nothing. The seed is not used. start() refuses spaces of more than `max_candidates` candidates.
class GridSearch final : public SearchAlgorithm {
public:
    explicit GridSearch(const Params& params);

    void start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& budget) override;
    std::vector<Candidate> ask(std::size_t n) override;
    void tell(const std::vector<Observation>& results) override;

private:
    std::uint64_t max_candidates_;
    const DesignSpace* space_ = nullptr;  ///< set by start(); the engine keeps the space alive
    Candidate next_;                      ///< the next candidate to ask, valid while remaining_ > 0
    std::uint64_t remaining_ = 0;
    std::uint64_t observations_ = 0;
};

/// The factory of search.grid: kind, name, doc, parameter schema and create function.
Factory grid_factory();

}  // namespace transcode::plugins::search
