// search.random: uniformly random candidates, reproducible for a seed on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include "transcode/plugin.hpp"
#include "transcode/search.hpp"

namespace transcode::plugins::search {

/// Draws candidates uniformly at random from std::mt19937_64 seeded by start(). With `dedupe` it
/// draws without replacement and runs out once every candidate was asked; without, it draws with
/// replacement and never runs out.
class RandomSearch final : public SearchAlgorithm {
public:
    explicit RandomSearch(const Params& params);

    void start(const SearchSpace& space, std::uint64_t seed) override;
    std::vector<Candidate> ask(std::size_t n) override;
    void tell(const std::vector<Observation>& results) override;

private:
    Candidate draw_digits();
    std::optional<Candidate> draw_unseen_index();

    bool dedupe_;
    bool started_ = false;
    SearchSpace space_;
    std::mt19937_64 rng_;
    /// The candidate count when it is below 2^64; dedupe then samples indices without replacement.
    std::optional<std::uint64_t> count_;
    /// Sparse Fisher-Yates shuffle of [0, count_): drawn_ positions are done, and moved_ holds the
    /// positions at or after drawn_ whose index differs from the position.
    std::uint64_t drawn_ = 0;
    std::unordered_map<std::uint64_t, std::uint64_t> moved_;
    /// Dedupe in spaces of 2^64 or more candidates, which cannot run out: the candidates asked.
    std::set<Candidate> seen_;
    std::uint64_t observations_ = 0;
};

/// The factory of search.random: kind, name, doc, parameter schema and create function.
Factory random_factory();

}  // namespace transcode::plugins::search
