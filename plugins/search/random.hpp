// search.random: random candidates (every active knob uniform), reproducible for a seed on every
// platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "space.hpp"
#include "transcode/plugin.hpp"
#include "transcode/search.hpp"

namespace transcode::plugins::search {

/// Draws candidates with DesignSpace::sample() from std::mt19937_64 seeded by start(). With
/// `dedupe` no canonical candidate is asked twice and the search runs out once every candidate was
/// asked; without, it draws with replacement and never runs out.
class RandomSearch final : public SearchAlgorithm {
public:
    explicit RandomSearch(const Params& params);

    void start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& budget) override;
    std::vector<Candidate> ask(std::size_t n) override;
    void tell(const std::vector<Observation>& results) override;

private:
    struct Deck {
        std::size_t choices = 0;
        std::vector<std::size_t> cards;  ///< a shuffle of 0..choices-1
        std::size_t next = 0;            ///< cards dealt from this shuffle
    };
    std::size_t deal(Deck& deck);
    Candidate stratified_sample();

    bool dedupe_;
    bool stratified_;
    bool shared_decks_;  ///< decks: shared (per-layer copies of a knob share one deck)
    std::vector<Deck> decks_;                ///< with stratified: one per knob (or per knob name without indices)
    std::vector<std::size_t> deck_of_knob_;  ///< knob -> its deck
    const DesignSpace* space_ = nullptr;  ///< set by start(); the engine keeps the space alive
    std::mt19937_64 rng_;
    ClaimedCandidates asked_;  ///< with dedupe: every candidate asked so far
    std::uint64_t observations_ = 0;
};

/// The factory of search.random: kind, name, doc, parameter schema and create function.
Factory random_factory();

}  // namespace transcode::plugins::search
