// search.boshcode: Bayesian optimisation with a heteroscedastic MLP-ensemble surrogate and
// gradient-based optimisation of the acquisition (GOBI), after BOSHNAS/BOSHCODE (Tuli et al.,
// FlexiBERT, JAIR 2023; Tuli and Jha, TransCODE, 2023).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "adahessian.hpp"
#include "mlp.hpp"
#include "space.hpp"
#include "transcode/plugin.hpp"
#include "transcode/search.hpp"

namespace transcode::plugins::search {

/// Maximises Observation::score. The surrogate is an ensemble of small MLPs on the encoded
/// candidates (DesignSpace::encode) predicting the standardised score: the ensemble mean is the
/// prediction and the ensemble's spread the epistemic uncertainty; a separate MLP trained with the
/// Gaussian negative log-likelihood on the ensemble's residuals predicts the log variance of the
/// noise, the aleatoric uncertainty. The acquisition is the upper confidence bound
/// mean + k1 * epistemic + k2 * aleatoric, maximised by AdaHessian (or first-order) ascent on the
/// encoding from the best designs seen and from random ones; the results snap to the nearest valid
/// designs (DesignSpace::decode). With acquisition ehvi, per-objective ensembles rank the snapped
/// designs by P(feasible) x expected hypervolume improvement instead. README.md documents every
/// parameter.
class BoshcodeSearch final : public SearchAlgorithm {
public:
    explicit BoshcodeSearch(const Params& params);

    void start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& budget) override;
    std::vector<Candidate> ask(std::size_t n) override;
    void tell(const std::vector<Observation>& results) override;

private:
    struct Settings {
        std::size_t initial_samples;
        std::size_t ensemble;
        std::size_t hidden;
        std::size_t layers;
        Activation activation;
        std::size_t epochs;
        std::size_t batch_size;
        AdamSettings adam;
        double k1;
        double k2;
        bool ehvi;  ///< acquisition: ehvi
        std::size_t ehvi_samples;
        std::size_t best_starts;
        std::size_t random_starts;
        std::size_t gradient_steps;
        bool second_order;  ///< ascent: adahessian
        AdaHessianSettings hessian;
        double step_size;
        double mutation_rate;
        std::size_t fallback_candidates;
        double p_uncertainty;
        double p_random;
        double trust_radius;
        double trust_min;
        std::size_t trust_patience;
        std::size_t stop_after;
    };
    /// The surrogate's view of a batch of encodings, in standardised score units.
    struct Acquisition {
        Eigen::VectorXf mean, epistemic, aleatoric, value;
    };

    void fit();
    template <class Input>
    void train_epoch(Mlp& net, const Input& x, const Eigen::VectorXf& target, bool gaussian_nll);
    Acquisition evaluate(const Matrix& x, Matrix* gradient) const;
    std::vector<Candidate> propose(std::size_t n);
    std::vector<Candidate> uncertainty_samples(std::size_t n);
    std::vector<double> training_targets() const;
    void update_trust_region();
    // acquisition ehvi: the objective surrogates, and the ranking of a pool by P(feasible) x EHVI.
    void fit_objectives();
    std::vector<std::size_t> rank_by_ehvi(const std::vector<Candidate>& pool, std::size_t n);
    Matrix encode_rows(const std::vector<Candidate>& candidates) const;

    Settings s_;
    const DesignSpace* space_ = nullptr;  ///< set by start(); the engine keeps the space alive
    std::mt19937_64 rng_;
    ClaimedCandidates asked_;
    /// Observations, one per canonical candidate (a design told again keeps its latest score).
    std::unordered_map<Candidate, std::size_t, CandidateHash> row_of_;
    std::vector<Candidate> observed_;
    std::vector<double> scores_;
    std::vector<double> violations_;    ///< 0 for feasible observations
    std::vector<double> score_stddev_;  ///< the engine's uncertainty of each score
    std::vector<std::vector<double>> objectives_;  ///< as told (minimised; only feasible ones are used)
    // Trust region (TuRBO-like): GOBI moves within an L-infinity box of half-width radius_ around the
    // best feasible design's encoding; it doubles after a round that improved on the best, halves after
    // trust_patience rounds that did not.
    double radius_ = 1;
    double best_seen_ = -std::numeric_limits<double>::infinity();
    std::size_t told_at_best_ = 0;   ///< observations when the best was last improved
    std::size_t stalled_rounds_ = 0;  ///< tells since the last improvement
    std::size_t rounds_at_min_ = 0;   ///< tells with the radius at its minimum and no improvement
    bool converged_ = false;
    std::size_t fitted_rows_ = 0;  ///< observations the surrogate was last trained on
    bool stale_ = false;           ///< a score changed since the last fit
    std::vector<Mlp> ensemble_;
    std::optional<Mlp> noise_;  ///< log variance of the standardised score
    /// The standardised score below which the surrogate's targets are infeasible designs.
    float feasible_threshold_ = 0;
    // acquisition ehvi: per objective, an ensemble on the standardised log of the objective.
    std::vector<std::vector<Mlp>> objective_nets_;
    std::vector<double> objective_mean_, objective_scale_;
};

/// The factory of search.boshcode: kind, name, doc, parameter schema and create function.
Factory boshcode_factory();

}  // namespace transcode::plugins::search
