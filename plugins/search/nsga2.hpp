// search.nsga2: multi-objective search with pagmo2's NSGA-II, bridged to ask/tell.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <unordered_map>
#include <vector>

#include "space.hpp"
#include "transcode/plugin.hpp"
#include "transcode/search.hpp"

namespace transcode::plugins::search {

/// NSGA-II (Deb et al. 2002) on the objectives of Observation::objectives, all minimised. pagmo's
/// nsga2 does the mating selection (binary tournaments on non-domination rank and crowding
/// distance), the simulated binary crossover and the polynomial mutation, on genotypes in the
/// continuous box [0, 1]^d of DesignSpace::encode; a genotype's design is DesignSpace::decode of
/// it. pagmo is not ask/tell, so each generation runs in two halves (see README.md, "Bridging pagmo
/// to ask/tell"): pagmo breeds offspring from the current parents against a problem that only
/// records what it is asked to evaluate; ask() hands out the designs not seen before, and once they
/// were told, pagmo's select_best_N_mo (the survival step of its nsga2) keeps the best `population`
/// of parents and offspring.
class Nsga2Search final : public SearchAlgorithm {
public:
    explicit Nsga2Search(const Params& params);
    ~Nsga2Search() override;

    void start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& budget) override;
    std::vector<Candidate> ask(std::size_t n) override;
    void tell(const std::vector<Observation>& results) override;

private:
    struct Pagmo;  // pagmo's algorithm object, kept out of this header
    struct Individual {
        std::vector<double> x;  ///< genotype in [0, 1]^d
        std::vector<double> f;  ///< objectives, minimised
    };

    std::size_t evaluated_in_pool() const;
    void complete_generation();
    void sampling_round();
    void mating_round();
    void add_to_pool(std::vector<double> x, const Candidate& c);
    const std::vector<double>* objectives_of(const Candidate& c) const;

    std::size_t population_size_;
    double crossover_probability_;
    double eta_c_;
    double mutation_probability_;
    double eta_m_;
    std::size_t idle_rounds_;

    const DesignSpace* space_ = nullptr;  ///< set by start(); the engine keeps the space alive
    std::mt19937_64 rng_;
    std::unique_ptr<Pagmo> pagmo_;
    ClaimedCandidates claimed_;  ///< asked, or queued to be asked
    std::unordered_map<Candidate, std::vector<double>, CandidateHash> results_;  ///< told objectives
    std::size_t objectives_ = 0;  ///< the number of objectives, from the first observation carrying them
    std::vector<Individual> parents_;  ///< the current population; empty until generation 0 is told
    /// The current generation's offspring genotypes (with repeats: a genotype whose design is
    /// known already is not asked again, but still competes in survival).
    std::vector<std::vector<double>> pool_;
    std::deque<Candidate> queue_;  ///< designs of pool_ not yet asked
};

/// The factory of search.nsga2: kind, name, doc, parameter schema and create function.
Factory nsga2_factory();

}  // namespace transcode::plugins::search
