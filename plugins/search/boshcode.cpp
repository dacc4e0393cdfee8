#include "boshcode.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <queue>
#include <string>
#include <utility>

#include <pagmo/utils/hypervolume.hpp>

namespace transcode::plugins::search {

namespace {

constexpr const char* algorithm = "boshcode search";

// Numerical guards on the noise network's log variance (standardised units): e^-14 to e^5 spans a
// noise standard deviation from 0.001 to 12 score deviations, beyond anything meaningful. Inside
// the bounds the Gaussian likelihood is used as is; outside, its gradient is taken at the bound.
constexpr float min_log_variance = -14.0f;
constexpr float max_log_variance = 5.0f;
// Below this ensemble spread (standardised units) the members agree, and the spread's gradient,
// which divides by it, is left out.
constexpr float tiny_spread = 1e-6f;
// Encodings with fewer non-zeros than this fraction train through sparse products.
constexpr double sparse_density = 0.25;

ParamSchema boshcode_schema() {
    return {
        ParamSpec::integer("initial_samples",
                           "candidates drawn at random (DesignSpace::sample, no repeats) before the surrogate proposes any")
            .unit("candidates")
            .min(1)
            .default_value(8),
        ParamSpec::integer("ensemble", "MLPs in the ensemble; their spread is the epistemic uncertainty").min(2).default_value(4),
        ParamSpec::integer("hidden", "units in each hidden layer of every MLP").min(1).default_value(32),
        ParamSpec::integer("layers", "hidden layers of every MLP").min(1).default_value(2),
        ParamSpec::enumeration("activation", "the hidden layers' nonlinearity; tanh gives the acquisition a smooth gradient",
                               {"tanh", "relu"})
            .default_value("tanh"),
        ParamSpec::integer("epochs",
                           "passes over the observations each time the surrogate is refitted (at an ask() after new "
                           "observations); the networks are warm-started from the previous fit")
            .min(1)
            .default_value(20),
        ParamSpec::integer("batch_size", "observations per Adam step").min(1).default_value(32),
        ParamSpec::floating("learning_rate", "Adam's step size").greater_than(0.0).default_value(0.003),
        ParamSpec::floating("weight_decay", "decoupled weight decay per Adam step (AdamW), relative to the learning rate")
            .min(0.0)
            .default_value(0.0001),
        ParamSpec::floating("k1", "weight of the epistemic uncertainty (ensemble spread) in the acquisition")
            .min(0.0)
            .default_value(0.5),
        ParamSpec::floating("k2", "weight of the aleatoric uncertainty (predicted noise) in the acquisition")
            .min(0.0)
            .default_value(0.5),
        ParamSpec::enumeration("acquisition",
                               "how the designs the ascent and the mutations found are ranked: ucb, the weighted score's "
                               "upper confidence bound (as published); ehvi, the expected hypervolume improvement of the "
                               "objectives (Monte Carlo, one surrogate ensemble per objective) times the probability of "
                               "feasibility",
                               {"ucb", "ehvi"})
            .default_value("ucb"),
        ParamSpec::integer("ehvi_samples", "acquisition ehvi: Monte Carlo draws of the objectives per design")
            .min(1)
            .default_value(32),
        ParamSpec::integer("best_starts", "gradient-ascent starts at the best designs observed so far").min(0).default_value(8),
        ParamSpec::integer("random_starts", "gradient-ascent starts at random designs").min(0).default_value(8),
        ParamSpec::integer("gradient_steps", "steps of gradient ascent on the acquisition from each start").min(0).default_value(40),
        ParamSpec::enumeration("ascent",
                               "how GOBI climbs the acquisition: adahessian, second order (AdaHessian with Hutchinson's "
                               "diagonal Hessian from a central difference of two gradients, as the authors' GOBI); "
                               "gradient, first order with moves of step_size",
                               {"adahessian", "gradient"})
            .default_value("adahessian"),
        ParamSpec::floating("hessian_learning_rate", "ascent adahessian: the fraction of each coordinate's Newton step taken per step")
            .greater_than(0.0)
            .max(1.0)
            .default_value(0.3),
        ParamSpec::floating("hessian_momentum",
                            "ascent adahessian: the decay of the gradient's moving average (Adam's beta1). AdaHessian's 0.9 "
                            "suits thousands of steps; momentum's oscillation decays like sqrt(beta1) per step, and GOBI "
                            "takes gradient_steps")
            .min(0.0)
            .max(0.99)
            .default_value(0.5),
        ParamSpec::floating("step_size",
                            "ascent gradient: length of one ascent step in the encoding, as the root-mean-square move per "
                            "coordinate (the encoding spans [0, 1] per coordinate)")
            .greater_than(0.0)
            .default_value(0.05),
        ParamSpec::floating("mutation_rate",
                            "per-knob change probability of the mutations of the best designs that fill a batch when "
                            "gradient ascent snaps to designs already asked")
            .min(0.0)
            .max(1.0)
            .default_value(0.2),
        ParamSpec::integer("fallback_candidates",
                           "mutations of the best designs ranked by the acquisition when gradient ascent does not fill "
                           "a batch; random unasked designs fill what is still missing")
            .min(0)
            .default_value(64),
        ParamSpec::floating("p_uncertainty",
                            "probability that a slot of a batch is an uncertainty sample: the design of largest epistemic "
                            "uncertainty among fallback_candidates random ones (BOSHNAS's alpha)")
            .min(0.0)
            .max(1.0)
            .default_value(0.1),
        ParamSpec::floating("p_random", "probability that a slot of a batch is a random unasked design (BOSHNAS's beta)")
            .min(0.0)
            .max(1.0)
            .default_value(0.1),
        ParamSpec::floating("trust_radius",
                            "initial half-width of the trust region, an L-infinity box in the encoding around the best feasible "
                            "design, within which gradient ascent moves (1: the whole encoding)")
            .greater_than(0.0)
            .max(1.0)
            .default_value(0.5),
        ParamSpec::floating("trust_min", "smallest trust radius; the radius halves down to it after rounds without improvement")
            .greater_than(0.0)
            .max(1.0)
            .default_value(0.03125),
        ParamSpec::integer("trust_patience", "rounds without a better feasible score before the trust radius halves").min(1).default_value(3),
        ParamSpec::integer("stop_after",
                           "convergence stop: ask() returns nothing once the radius has sat at trust_min for this many rounds "
                           "without improvement (0: never stop before the budget)")
            .min(0)
            .default_value(0),
    };
}

// Fisher-Yates with the SDK's draws: the same permutation on every platform.
std::vector<std::size_t> permutation(std::size_t n, std::mt19937_64& rng) {
    std::vector<std::size_t> p(n);
    std::iota(p.begin(), p.end(), std::size_t{0});
    for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[static_cast<std::size_t>(draw_below(rng, i))]);
    return p;
}

Matrix gather(const Matrix& x, const std::vector<std::size_t>& rows, std::size_t from, std::size_t to) {
    Matrix out(static_cast<Eigen::Index>(to - from), x.cols());
    for (std::size_t i = from; i < to; ++i) out.row(static_cast<Eigen::Index>(i - from)) = x.row(static_cast<Eigen::Index>(rows[i]));
    return out;
}

SparseRows gather(const SparseRows& x, const std::vector<std::size_t>& rows, std::size_t from, std::size_t to) {
    // The batch's compressed rows, copied range by range from the (compressed) data set.
    std::vector<int> outer{0}, inner;
    std::vector<float> values;
    for (std::size_t i = from; i < to; ++i) {
        const auto r = static_cast<Eigen::Index>(rows[i]);
        const int begin = x.outerIndexPtr()[r], end = x.outerIndexPtr()[r + 1];
        inner.insert(inner.end(), x.innerIndexPtr() + begin, x.innerIndexPtr() + end);
        values.insert(values.end(), x.valuePtr() + begin, x.valuePtr() + end);
        outer.push_back(static_cast<int>(inner.size()));
    }
    return Eigen::Map<const SparseRows>(static_cast<Eigen::Index>(to - from), x.cols(), static_cast<Eigen::Index>(inner.size()),
                                        outer.data(), inner.data(), values.data());
}

}  // namespace

BoshcodeSearch::BoshcodeSearch(const Params& p) {
    const auto count = [&](const char* name) { return static_cast<std::size_t>(p.get_int(name)); };
    s_.initial_samples = count("initial_samples");
    s_.ensemble = count("ensemble");
    s_.hidden = count("hidden");
    s_.layers = count("layers");
    s_.activation = p.get_string("activation") == "relu" ? Activation::relu : Activation::tanh;
    s_.epochs = count("epochs");
    s_.batch_size = count("batch_size");
    s_.adam.learning_rate = static_cast<float>(p.get_float("learning_rate"));
    s_.adam.weight_decay = static_cast<float>(p.get_float("weight_decay"));
    s_.k1 = p.get_float("k1");
    s_.k2 = p.get_float("k2");
    s_.ehvi = p.get_string("acquisition") == "ehvi";
    s_.ehvi_samples = count("ehvi_samples");
    s_.best_starts = count("best_starts");
    s_.random_starts = count("random_starts");
    s_.gradient_steps = count("gradient_steps");
    s_.second_order = p.get_string("ascent") == "adahessian";
    s_.hessian.learning_rate = static_cast<float>(p.get_float("hessian_learning_rate"));
    s_.hessian.beta1 = static_cast<float>(p.get_float("hessian_momentum"));
    s_.step_size = p.get_float("step_size");
    s_.mutation_rate = p.get_float("mutation_rate");
    s_.fallback_candidates = count("fallback_candidates");
    s_.p_uncertainty = p.get_float("p_uncertainty");
    s_.p_random = p.get_float("p_random");
    if (s_.p_uncertainty + s_.p_random > 1.0)
        throw ConfigError("p_random", std::string(algorithm) + ": p_uncertainty + p_random is above 1; the rest of a batch is gradient steps");
    s_.trust_radius = p.get_float("trust_radius");
    s_.trust_min = p.get_float("trust_min");
    if (s_.trust_min > s_.trust_radius)
        throw ConfigError("trust_min", std::string(algorithm) + ": trust_min is above trust_radius");
    s_.trust_patience = count("trust_patience");
    s_.stop_after = count("stop_after");
    if (s_.best_starts + s_.random_starts == 0)
        throw ConfigError("best_starts", std::string(algorithm) +
                                             ": best_starts and random_starts are both 0; gradient ascent needs at least one start");
}

void BoshcodeSearch::start(const DesignSpace& space, std::uint64_t seed, const SearchBudget& /*budget*/) {
    space_ = &space;
    rng_.seed(seed);
    asked_.reset(space);
    row_of_.clear();
    observed_.clear();
    scores_.clear();
    violations_.clear();
    score_stddev_.clear();
    objectives_.clear();
    objective_nets_.clear();
    objective_mean_.clear();
    objective_scale_.clear();
    feasible_threshold_ = 0;
    radius_ = s_.trust_radius;
    best_seen_ = -std::numeric_limits<double>::infinity();
    told_at_best_ = 0;
    stalled_rounds_ = 0;
    rounds_at_min_ = 0;
    converged_ = false;
    fitted_rows_ = 0;
    stale_ = false;
    ensemble_.clear();
    noise_.reset();
}

void BoshcodeSearch::tell(const std::vector<Observation>& results) {
    if (space_ == nullptr) throw InternalError(std::string(algorithm) + ": tell() called before start()");
    for (const Observation& o : results) {
        Candidate c = space_->canonical(o.candidate);
        const auto [it, added] = row_of_.emplace(c, observed_.size());
        const double violation = o.ok ? 0.0 : std::max(o.violation, 1e-12);
        if (added) {
            observed_.push_back(std::move(c));
            scores_.push_back(o.score);
            violations_.push_back(violation);
            score_stddev_.push_back(o.score_stddev);
            objectives_.push_back(o.objectives);
        } else if (scores_[it->second] != o.score || violations_[it->second] != violation) {
            scores_[it->second] = o.score;
            violations_[it->second] = violation;
            score_stddev_[it->second] = o.score_stddev;
            objectives_[it->second] = o.objectives;
            stale_ = true;
        }
    }
    update_trust_region();
}

void BoshcodeSearch::update_trust_region() {
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < scores_.size(); ++i)
        if (violations_[i] == 0 && std::isfinite(scores_[i])) best = std::max(best, scores_[i]);
    if (best > best_seen_ + 1e-12 * std::max(1.0, std::abs(best))) {
        if (std::isfinite(best_seen_)) radius_ = std::min(1.0, 2 * radius_);
        best_seen_ = best;
        stalled_rounds_ = 0;
        rounds_at_min_ = 0;
        return;
    }
    if (!std::isfinite(best_seen_)) return;  // nothing feasible yet: the region has no centre
    if (++stalled_rounds_ >= s_.trust_patience) {
        stalled_rounds_ = 0;
        radius_ = std::max(s_.trust_min, radius_ / 2);
    }
    if (radius_ <= s_.trust_min) ++rounds_at_min_;
    if (s_.stop_after > 0 && rounds_at_min_ >= s_.stop_after) converged_ = true;
}

std::vector<double> BoshcodeSearch::training_targets() const {
    // Learning from violation: feasible designs train with their score; infeasible ones with a value
    // below the lowest feasible score, lower the larger their violation (log scale, up to the
    // unmeasured violation), so that the surrogate's gradient points towards feasibility and the
    // penalty's magnitude never swamps the scores' scale.
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t i = 0; i < scores_.size(); ++i)
        if (violations_[i] == 0 && std::isfinite(scores_[i])) {
            lo = std::min(lo, scores_[i]);
            hi = std::max(hi, scores_[i]);
        }
    if (!std::isfinite(lo)) lo = hi = 0;
    const double spread = hi - lo > 1e-9 ? hi - lo : 1.0;
    std::vector<double> y(scores_.size());
    for (std::size_t i = 0; i < y.size(); ++i)
        y[i] = violations_[i] == 0 ? scores_[i]
                                   : lo - spread * (0.5 + 0.5 * std::log1p(std::min(violations_[i], unmeasured_violation)) / std::log1p(unmeasured_violation));
    return y;
}

Matrix BoshcodeSearch::encode_rows(const std::vector<Candidate>& candidates) const {
    Matrix x(static_cast<Eigen::Index>(candidates.size()), static_cast<Eigen::Index>(space_->encoded_size()));
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const std::vector<double> e = space_->encode(candidates[i]);
        for (std::size_t j = 0; j < e.size(); ++j) x(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = static_cast<float>(e[j]);
    }
    return x;
}

template <class Input>
void BoshcodeSearch::train_epoch(Mlp& net, const Input& x, const Eigen::VectorXf& target, bool gaussian_nll) {
    const std::size_t n = static_cast<std::size_t>(x.rows());
    const std::vector<std::size_t> order = permutation(n, rng_);
    Mlp::Trace trace;
    for (std::size_t from = 0; from < n; from += s_.batch_size) {
        const std::size_t to = std::min(n, from + s_.batch_size);
        const auto batch = gather(x, order, from, to);
        const Eigen::VectorXf out = net.forward(batch, trace);
        Eigen::VectorXf grad(out.size());
        const float scale = 1.0f / static_cast<float>(to - from);
        for (Eigen::Index i = 0; i < out.size(); ++i) {
            const float t = target(static_cast<Eigen::Index>(order[from + static_cast<std::size_t>(i)]));
            if (gaussian_nll) {
                // L = (s + t^2 e^-s) / 2 with s the predicted log variance and t the residual.
                const float s = std::clamp(out(i), min_log_variance, max_log_variance);
                grad(i) = 0.5f * (1.0f - t * t * std::exp(-s)) * scale;
            } else {
                grad(i) = 2.0f * (out(i) - t) * scale;  // squared error
            }
        }
        net.train_step(batch, trace, grad, s_.adam);
    }
}

void BoshcodeSearch::fit() {
    // Training rows: every observation with a finite target (training_targets: infeasible designs
    // below the feasible ones, by violation).
    const std::vector<double> targets = training_targets();
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < targets.size(); ++i)
        if (std::isfinite(targets[i])) rows.push_back(i);
    const auto n = static_cast<Eigen::Index>(rows.size());
    double mean = 0;
    for (std::size_t r : rows) mean += targets[r];
    mean /= static_cast<double>(rows.size());
    double var = 0;
    for (std::size_t r : rows) var += (targets[r] - mean) * (targets[r] - mean);
    const double sd = std::sqrt(var / static_cast<double>(rows.size()));
    const double scale = sd > 1e-12 ? sd : 1.0;
    Eigen::VectorXf y(n), known_noise(n);
    for (Eigen::Index i = 0; i < n; ++i) {
        const std::size_t r = rows[static_cast<std::size_t>(i)];
        y(i) = static_cast<float>((targets[r] - mean) / scale);
        known_noise(i) = static_cast<float>(score_stddev_[r] / scale);
    }

    std::vector<Candidate> candidates;
    candidates.reserve(rows.size());
    for (std::size_t r : rows) candidates.push_back(observed_[r]);
    const Matrix x = encode_rows(candidates);

    if (ensemble_.empty()) {
        for (std::size_t m = 0; m < s_.ensemble; ++m) ensemble_.emplace_back(space_->encoded_size(), s_.hidden, s_.layers, s_.activation, rng_);
        noise_.emplace(space_->encoded_size(), s_.hidden, s_.layers, s_.activation, rng_);
    }

    const auto train = [&](const auto& input) {
        for (Mlp& net : ensemble_)
            for (std::size_t e = 0; e < s_.epochs; ++e) train_epoch(net, input, y, false);
        Eigen::VectorXf residual = y;
        for (const Mlp& net : ensemble_) residual -= net.predict(input) / static_cast<float>(ensemble_.size());
        // The noise network learns the residuals together with the noise the engine reports for each
        // score (the accuracy estimate's standard deviation): r^2 + sigma^2 in expectation.
        residual = (residual.array().square() + known_noise.array().square()).sqrt();
        for (std::size_t e = 0; e < s_.epochs; ++e) train_epoch(*noise_, input, residual, true);
    };
    const double nonzeros = static_cast<double>((x.array() != 0.0f).count());
    if (nonzeros < sparse_density * static_cast<double>(x.size()))
    {
        SparseRows sparse = x.sparseView();
        sparse.makeCompressed();
        train(sparse);
    }
    else
        train(x);
    // Infeasible targets sit at least half the feasible spread below the lowest feasible score
    // (training_targets); the threshold between the two is the middle of that gap.
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t r : rows)
        if (violations_[r] == 0) {
            lo = std::min(lo, targets[r]);
            hi = std::max(hi, targets[r]);
        }
    feasible_threshold_ = std::isfinite(lo) ? static_cast<float>((lo - 0.25 * (hi - lo > 1e-9 ? hi - lo : 1.0) - mean) / scale)
                                            : std::numeric_limits<float>::infinity();
    if (s_.ehvi) fit_objectives();
    fitted_rows_ = observed_.size();
    stale_ = false;
}

void BoshcodeSearch::fit_objectives() {
    // Feasible observations with a full vector of positive, finite objectives; each objective is
    // learnt as the standardised log of its value (costs span orders of magnitude).
    std::size_t k_count = 0;
    for (std::size_t i = 0; i < observed_.size(); ++i)
        if (violations_[i] == 0) k_count = std::max(k_count, objectives_[i].size());
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < observed_.size(); ++i) {
        if (violations_[i] != 0 || objectives_[i].size() != k_count || k_count == 0) continue;
        bool usable = true;
        for (double v : objectives_[i]) usable = usable && std::isfinite(v) && v > 0;
        if (usable) rows.push_back(i);
    }
    if (rows.size() < 2) return;  // too little to learn from: ranking stays with the score's bound
    std::vector<Candidate> candidates;
    for (std::size_t r : rows) candidates.push_back(observed_[r]);
    const Matrix x = encode_rows(candidates);
    std::optional<SparseRows> sparse;
    if (static_cast<double>((x.array() != 0.0f).count()) < sparse_density * static_cast<double>(x.size())) {
        sparse = x.sparseView();
        sparse->makeCompressed();
    }
    if (objective_nets_.size() != k_count) {
        objective_nets_.assign(k_count, {});
        for (auto& nets : objective_nets_)
            for (std::size_t m = 0; m < s_.ensemble; ++m) nets.emplace_back(space_->encoded_size(), s_.hidden, s_.layers, s_.activation, rng_);
    }
    objective_mean_.assign(k_count, 0.0);
    objective_scale_.assign(k_count, 1.0);
    for (std::size_t k = 0; k < k_count; ++k) {
        double mean = 0, var = 0;
        for (std::size_t r : rows) mean += std::log(objectives_[r][k]);
        mean /= static_cast<double>(rows.size());
        for (std::size_t r : rows) var += (std::log(objectives_[r][k]) - mean) * (std::log(objectives_[r][k]) - mean);
        const double sd = std::sqrt(var / static_cast<double>(rows.size()));
        objective_mean_[k] = mean;
        objective_scale_[k] = sd > 1e-12 ? sd : 1.0;
        Eigen::VectorXf y(static_cast<Eigen::Index>(rows.size()));
        for (std::size_t i = 0; i < rows.size(); ++i)
            y(static_cast<Eigen::Index>(i)) = static_cast<float>((std::log(objectives_[rows[i]][k]) - mean) / objective_scale_[k]);
        const auto train = [&](const auto& input) {
            for (Mlp& net : objective_nets_[k])
                for (std::size_t e = 0; e < s_.epochs; ++e) train_epoch(net, input, y, false);
        };
        if (sparse) train(*sparse);
        else train(x);
    }
}

namespace {

using Point = std::vector<double>;

bool weakly_dominates(const Point& a, const Point& b) {
    for (std::size_t k = 0; k < a.size(); ++k)
        if (a[k] > b[k]) return false;
    return true;
}

void add_to_front(std::vector<Point>& front, const Point& p) {
    for (const Point& q : front)
        if (weakly_dominates(q, p)) return;
    front.erase(std::remove_if(front.begin(), front.end(), [&](const Point& q) { return weakly_dominates(p, q); }), front.end());
    front.push_back(p);
}

// The hypervolume `y` adds to `front` below `reference`: the volume of the box between y and the
// reference, less the part of it the front already dominates (the front clipped to the box).
double hypervolume_improvement(const Point& y, const std::vector<Point>& front, const Point& reference) {
    double box = 1;
    for (std::size_t k = 0; k < y.size(); ++k) {
        if (y[k] >= reference[k]) return 0;
        box *= reference[k] - y[k];
    }
    std::vector<pagmo::vector_double> clipped;
    for (const Point& q : front) {
        if (weakly_dominates(q, y)) return 0;
        pagmo::vector_double c(y.size());
        bool inside = true;
        for (std::size_t k = 0; k < y.size(); ++k) {
            c[k] = std::max(q[k], y[k]);
            inside = inside && c[k] < reference[k];
        }
        if (inside) clipped.push_back(std::move(c));
    }
    if (clipped.empty()) return box;
    return std::max(0.0, box - pagmo::hypervolume(clipped, false).compute(reference));
}

// A standard normal draw from two of the SDK's uniform draws (Box-Muller): the same on every platform.
double draw_normal(std::mt19937_64& rng) {
    const double u = 1.0 - draw_unit(rng), v = draw_unit(rng);
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * 3.14159265358979323846 * v);
}

}  // namespace

std::vector<std::size_t> BoshcodeSearch::rank_by_ehvi(const std::vector<Candidate>& pool, std::size_t n) {
    // The observed Pareto front of feasible designs and a reference point past its nadir: the
    // largest feasible value of each objective plus a tenth of its range.
    const std::size_t k_count = objective_nets_.size();
    std::vector<Point> front;
    Point reference(k_count, -std::numeric_limits<double>::infinity()), lowest(k_count, std::numeric_limits<double>::infinity());
    for (std::size_t i = 0; i < observed_.size(); ++i) {
        if (violations_[i] != 0 || objectives_[i].size() != k_count) continue;
        add_to_front(front, objectives_[i]);
        for (std::size_t k = 0; k < k_count; ++k) {
            reference[k] = std::max(reference[k], objectives_[i][k]);
            lowest[k] = std::min(lowest[k], objectives_[i][k]);
        }
    }
    for (std::size_t k = 0; k < k_count; ++k)
        reference[k] += 0.1 * std::max({reference[k] - lowest[k], 1e-3 * std::abs(reference[k]), 1e-12});

    // Per design: the objectives' predictive means and spreads (log space), and the probability
    // that it is feasible (the score surrogate above the feasibility threshold).
    const Matrix x = encode_rows(pool);
    const auto rows = static_cast<std::size_t>(x.rows());
    const Acquisition score = evaluate(x, nullptr);
    std::vector<double> feasible(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        const auto r = static_cast<Eigen::Index>(i);
        const double sd = std::max(1e-3, std::hypot(static_cast<double>(score.epistemic(r)), static_cast<double>(score.aleatoric(r))));
        feasible[i] = 0.5 * std::erfc(-(static_cast<double>(score.mean(r)) - feasible_threshold_) / (sd * std::sqrt(2.0)));
    }
    std::vector<std::vector<double>> mean(rows, Point(k_count)), spread(rows, Point(k_count));
    for (std::size_t k = 0; k < k_count; ++k) {
        const auto members = static_cast<double>(objective_nets_[k].size());
        std::vector<Eigen::VectorXf> outputs;
        for (const Mlp& net : objective_nets_[k]) outputs.push_back(net.predict(x));
        for (std::size_t i = 0; i < rows; ++i) {
            const auto r = static_cast<Eigen::Index>(i);
            double m = 0, v = 0;
            for (const auto& f : outputs) m += f(r) / members;
            for (const auto& f : outputs) v += (f(r) - m) * (f(r) - m) / members;
            mean[i][k] = objective_mean_[k] + objective_scale_[k] * m;
            spread[i][k] = objective_scale_[k] * std::sqrt(v);
        }
    }
    // Common random numbers: every design sees the same draws, so their comparison has less noise.
    std::vector<Point> draws(s_.ehvi_samples, Point(k_count));
    for (Point& d : draws)
        for (double& e : d) e = draw_normal(rng_);

    // Greedy batch: the best design, then the best given that the first one's predicted
    // objectives joined the front (the "believer" heuristic), and so on. A design's improvement can
    // only shrink as the front grows, so the greedy is lazy: a value computed against an older
    // front is an upper bound, and only the design on top is recomputed until its value is current.
    const auto value_of = [&](std::size_t i) {
        if (feasible[i] <= 1e-6) return 0.0;
        double improvement = 0;
        Point y(k_count);
        for (const Point& d : draws) {
            for (std::size_t k = 0; k < k_count; ++k) y[k] = std::exp(mean[i][k] + spread[i][k] * d[k]);
            improvement += hypervolume_improvement(y, front, reference);
        }
        return feasible[i] * improvement / static_cast<double>(draws.size());
    };
    struct Entry {
        double value, ucb;
        std::size_t design, front_version;
        bool operator<(const Entry& o) const {  // a max-heap: largest value, then largest ucb, then first design
            if (value != o.value) return value < o.value;
            if (ucb != o.ucb) return ucb < o.ucb;
            return design > o.design;
        }
    };
    std::size_t version = 0;
    std::priority_queue<Entry> heap;
    for (std::size_t i = 0; i < rows; ++i) heap.push({value_of(i), static_cast<double>(score.value(static_cast<Eigen::Index>(i))), i, version});
    std::vector<std::size_t> order;
    while (order.size() < std::min(n, rows)) {
        Entry top = heap.top();
        heap.pop();
        if (top.front_version != version && top.value > 0) {
            top.value = value_of(top.design);
            top.front_version = version;
            heap.push(top);
            continue;
        }
        order.push_back(top.design);
        Point believed(k_count);
        for (std::size_t k = 0; k < k_count; ++k) believed[k] = std::exp(mean[top.design][k]);
        add_to_front(front, believed);
        ++version;
    }
    return order;
}

BoshcodeSearch::Acquisition BoshcodeSearch::evaluate(const Matrix& x, Matrix* gradient) const {
    const auto members = static_cast<float>(ensemble_.size());
    std::vector<Mlp::Trace> traces(ensemble_.size());
    std::vector<Eigen::VectorXf> outputs;
    Acquisition a;
    a.mean = Eigen::VectorXf::Zero(x.rows());
    for (std::size_t m = 0; m < ensemble_.size(); ++m) {
        outputs.push_back(ensemble_[m].forward(x, traces[m]));
        a.mean += outputs.back() / members;
    }
    a.epistemic = Eigen::VectorXf::Zero(x.rows());
    for (const Eigen::VectorXf& f : outputs) a.epistemic.array() += (f - a.mean).array().square() / members;
    a.epistemic = a.epistemic.array().sqrt();
    Mlp::Trace noise_trace;
    const Eigen::VectorXf log_variance = noise_->forward(x, noise_trace);
    a.aleatoric = (log_variance.array().min(max_log_variance).max(min_log_variance) * 0.5f).exp();
    const auto k1 = static_cast<float>(s_.k1), k2 = static_cast<float>(s_.k2);
    a.value = a.mean + k1 * a.epistemic + k2 * a.aleatoric;
    if (gradient == nullptr) return a;

    // d(value)/dx = sum_m (1/M + k1 (f_m - mean) / (M spread)) df_m/dx + k2 aleatoric / 2 ds/dx.
    *gradient = Matrix::Zero(x.rows(), x.cols());
    for (std::size_t m = 0; m < ensemble_.size(); ++m) {
        Eigen::VectorXf w(x.rows());
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            const float spread = a.epistemic(i);
            w(i) = 1.0f / members + (spread > tiny_spread ? k1 * (outputs[m](i) - a.mean(i)) / (members * spread) : 0.0f);
        }
        *gradient += ensemble_[m].input_gradient(traces[m], w);
    }
    if (k2 > 0) {
        Eigen::VectorXf w(x.rows());
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            const float s = log_variance(i);
            w(i) = s > min_log_variance && s < max_log_variance ? 0.5f * k2 * a.aleatoric(i) : 0.0f;
        }
        *gradient += noise_->input_gradient(noise_trace, w);
    }
    return a;
}

std::vector<Candidate> BoshcodeSearch::propose(std::size_t n) {
    if (fitted_rows_ != observed_.size() || stale_) fit();
    const std::vector<double> targets = training_targets();
    std::vector<std::size_t> ranked;
    for (std::size_t i = 0; i < targets.size(); ++i)
        if (std::isfinite(targets[i])) ranked.push_back(i);
    std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) { return targets[a] > targets[b]; });

    // GOBI: gradient ascent on the acquisition from the best designs seen and from random ones.
    std::vector<Candidate> starts;
    for (std::size_t i = 0; i < s_.best_starts && i < ranked.size(); ++i) starts.push_back(observed_[ranked[i]]);
    for (std::size_t i = 0; i < s_.random_starts; ++i) starts.push_back(space_->sample(rng_));
    Matrix x = encode_rows(starts);
    // The trust region around the best design (feasible when there is one: ranked puts them first).
    Eigen::RowVectorXf lower = Eigen::RowVectorXf::Zero(x.cols()), upper = Eigen::RowVectorXf::Ones(x.cols());
    if (!ranked.empty() && std::isfinite(best_seen_)) {
        const Matrix centre = encode_rows({observed_[ranked.front()]});
        lower = (centre.row(0).array() - static_cast<float>(radius_)).max(0.0f);
        upper = (centre.row(0).array() + static_cast<float>(radius_)).min(1.0f);
    }
    for (Eigen::Index i = 0; i < x.rows(); ++i) x.row(i) = x.row(i).cwiseMax(lower).cwiseMin(upper);
    Matrix best_x = x;
    Eigen::VectorXf best_value = evaluate(x, nullptr).value;
    Matrix gradient;
    AdaHessianAscent adahessian(s_.hessian);
    const auto keep_best = [&](const Eigen::VectorXf& value) {
        for (Eigen::Index i = 0; i < x.rows(); ++i)
            if (value(i) > best_value(i)) {
                best_value(i) = value(i);
                best_x.row(i) = x.row(i);
            }
    };
    for (std::size_t step = 0; step < s_.gradient_steps; ++step) {
        if (s_.second_order) {
            keep_best(evaluate(x, nullptr).value);
            adahessian.step(x, [&](const Matrix& at, Matrix& g) { evaluate(at, &g); }, rng_);
        } else {
            keep_best(evaluate(x, &gradient).value);
            for (Eigen::Index i = 0; i < x.rows(); ++i) {
                const float rms = std::sqrt(gradient.row(i).squaredNorm() / static_cast<float>(x.cols()));
                if (rms > 0) x.row(i) += (static_cast<float>(s_.step_size) / rms) * gradient.row(i);
            }
        }
        for (Eigen::Index i = 0; i < x.rows(); ++i) x.row(i) = x.row(i).cwiseMax(lower).cwiseMin(upper);
    }
    const Acquisition last = evaluate(x, nullptr);
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        if (last.value(i) > best_value(i)) best_x.row(i) = x.row(i);

    // Snap to the nearest valid designs, keep those not asked yet, and rank them by the
    // acquisition at the design itself (not at the continuous point it came from).
    std::vector<Candidate> pool;
    CandidateSet in_pool;
    const auto consider = [&](Candidate c) {
        if (!asked_.contains(c) && in_pool.insert(c).second) pool.push_back(std::move(c));
    };
    std::vector<double> row(static_cast<std::size_t>(x.cols()));
    for (Eigen::Index i = 0; i < best_x.rows(); ++i) {
        for (Eigen::Index j = 0; j < best_x.cols(); ++j) row[static_cast<std::size_t>(j)] = best_x(i, j);
        consider(space_->decode(row));
    }
    const auto take_best = [&](std::vector<Candidate>& out) {
        if (pool.empty()) return;
        std::vector<std::size_t> order;
        if (!objective_nets_.empty()) {
            order = rank_by_ehvi(pool, n - out.size());
        } else {
            const Eigen::VectorXf value = evaluate(encode_rows(pool), nullptr).value;
            order.resize(pool.size());
            std::iota(order.begin(), order.end(), std::size_t{0});
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                return value(static_cast<Eigen::Index>(a)) > value(static_cast<Eigen::Index>(b));
            });
        }
        for (std::size_t i : order) {
            if (out.size() == n) break;
            asked_.claim(pool[i]);
            out.push_back(pool[i]);
        }
        pool.clear();
    };
    if (!objective_nets_.empty()) {
        // EHVI values the whole front, not only the best score: mutations of the front's designs
        // join the ascent's.
        std::vector<std::size_t> front_rows;
        for (std::size_t i = 0; i < observed_.size(); ++i) {
            if (violations_[i] != 0) continue;
            bool dominated = false;
            for (std::size_t j = 0; j < observed_.size() && !dominated; ++j)
                dominated = j != i && violations_[j] == 0 && objectives_[j] != objectives_[i] &&
                            objectives_[j].size() == objectives_[i].size() && weakly_dominates(objectives_[j], objectives_[i]);
            if (!dominated) front_rows.push_back(i);
        }
        for (std::size_t i = 0; i < s_.fallback_candidates && !front_rows.empty(); ++i)
            consider(space_->mutate(observed_[front_rows[i % front_rows.size()]], s_.mutation_rate, rng_));
    }
    std::vector<Candidate> out;
    take_best(out);

    // Ascent snapped to designs asked before: mutations of the best designs, ranked the same way.
    if (out.size() < n && !ranked.empty()) {
        for (std::size_t i = 0; i < s_.fallback_candidates; ++i) {
            const std::size_t parent = ranked[i % std::min(ranked.size(), std::max<std::size_t>(s_.best_starts, 1))];
            consider(space_->mutate(observed_[parent], s_.mutation_rate, rng_));
        }
        take_best(out);
    }
    while (out.size() < n) {
        std::optional<Candidate> c = asked_.draw(rng_);
        if (!c) break;
        out.push_back(std::move(*c));
    }
    return out;
}

std::vector<Candidate> BoshcodeSearch::ask(std::size_t n) {
    if (space_ == nullptr) throw InternalError(std::string(algorithm) + ": ask() called before start()");
    std::vector<Candidate> out;
    std::size_t trainable = 0;
    for (double s : scores_) trainable += std::isfinite(s) ? 1 : 0;
    // Random designs first: the initial samples, and as long as the surrogate has under two
    // observations to learn from (a space without knobs has nothing to learn).
    while (out.size() < n && (asked_.size() < s_.initial_samples || trainable < 2 || space_->encoded_size() == 0)) {
        std::optional<Candidate> c = asked_.draw(rng_);
        if (!c) return out;
        out.push_back(std::move(*c));
    }
    if (out.size() < n && !asked_.exhausted()) {
        if (converged_) return out;
        // The three-way choice of BOSHNAS, per slot: a random design, an uncertainty sample or a
        // gradient step (GOBI), drawn in slot order so that a seed fixes the split.
        std::size_t gobi = 0, uncertain = 0, random = 0;
        // A certain outcome draws nothing (p_random 1 then asks exactly search.random's designs).
        for (std::size_t i = out.size(); i < n; ++i) {
            const double u = s_.p_random >= 1 ? 0.0 : s_.p_random + s_.p_uncertainty <= 0 ? 1.0 : draw_unit(rng_);
            (u < s_.p_random ? random : u < s_.p_random + s_.p_uncertainty ? uncertain : gobi) += 1;
        }
        if (gobi > 0)
            for (Candidate& c : propose(gobi)) out.push_back(std::move(c));
        if (uncertain > 0)
            for (Candidate& c : uncertainty_samples(uncertain)) out.push_back(std::move(c));
        while (out.size() < n) {
            std::optional<Candidate> c = asked_.draw(rng_);
            if (!c) break;
            out.push_back(std::move(*c));
        }
        (void)random;
    }
    return out;
}

std::vector<Candidate> BoshcodeSearch::uncertainty_samples(std::size_t n) {
    if (fitted_rows_ != observed_.size() || stale_) fit();
    std::vector<Candidate> pool;
    CandidateSet in_pool;
    for (std::size_t i = 0; i < std::max<std::size_t>(s_.fallback_candidates, n); ++i) {
        Candidate c = space_->sample(rng_);
        if (!asked_.contains(c) && in_pool.insert(c).second) pool.push_back(std::move(c));
    }
    std::vector<Candidate> out;
    if (pool.empty()) return out;
    const Eigen::VectorXf spread = evaluate(encode_rows(pool), nullptr).epistemic;
    std::vector<std::size_t> order(pool.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return spread(static_cast<Eigen::Index>(a)) > spread(static_cast<Eigen::Index>(b));
    });
    for (std::size_t i = 0; i < order.size() && out.size() < n; ++i) {
        asked_.claim(pool[order[i]]);
        out.push_back(pool[order[i]]);
    }
    return out;
}

Factory boshcode_factory() {
    return Factory{
        PluginKind::search,
        "search.boshcode",
        "BOSHCODE: Bayesian optimisation with a heteroscedastic neural surrogate and gradient-based acquisition search\n"
        "As in BOSHNAS/BOSHCODE (FlexiBERT, TransCODE), it maximises the score. After `initial_samples` random designs,\n"
        "an ensemble of small MLPs (Eigen, Adam) is trained on the encoded designs told so far: its mean predicts the\n"
        "standardised score and its spread is the epistemic uncertainty; another MLP, trained with the Gaussian\n"
        "likelihood on the ensemble's residuals, predicts the aleatoric (noise) uncertainty. Each ask() maximises the\n"
        "upper confidence bound mean + k1 * epistemic + k2 * aleatoric by AdaHessian, a second-order ascent on the\n"
        "encoding (GOBI; `ascent: gradient` for first order), from the best designs seen and from random ones, snaps\n"
        "the results to the nearest valid designs, and asks the best of those not asked before; mutations of the best\n"
        "designs, then random designs, fill a batch the ascent leaves short. `acquisition: ehvi` ranks them by the\n"
        "probability of feasibility times the expected hypervolume improvement of per-objective surrogates instead. Each slot of a batch is, by chance, a gradient step, an uncertainty sample (p_uncertainty) or a random\n"
        "design (p_random); gradient ascent stays in a trust region around the best feasible design that grows after\n"
        "improvements and shrinks after stalls, and stop_after ends the search once it has converged. Infeasible\n"
        "designs train below every feasible score, ordered by their violation. Deterministic for a seed and a sequence\n"
        "of batch sizes on one build. ask() returns fewer than n only once every design of the space was asked, or\n"
        "after the convergence stop.",
        boshcode_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<BoshcodeSearch>(params); },
    };
}

}  // namespace transcode::plugins::search
