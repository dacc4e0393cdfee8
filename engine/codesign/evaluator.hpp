// The co-design evaluator: one candidate (model choice + accelerator choice) -> its model and
// accelerator configs -> ELECTOR simulation of one step (the experiment's mode, fidelity and
// sparsity) -> accuracy (the accuracy plugin) -> weighted score and normalised objectives.
//
// evaluate() is safe to call from several threads at once, and its result depends only on the
// candidate and the experiment (every seed is derived from them), never on timing or threads.
// An infeasible candidate (a model the family refuses in this combination, an op kind no unit runs,
// a config the components refuse, an accuracy the estimator cannot give) is a record with ok =
// false and the reason; a plugin that fails (PluginError) stops the run.
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "codesign/objective.hpp"
#include "experiment/experiment.hpp"
#include "simulator/prepared_graph.hpp"
#include "training/trainer.hpp"
#include "transcode/accuracy.hpp"

namespace transcode::engine {

struct EvaluationRecord {
    std::int64_t round = 0;  ///< the search round (one ask) it belongs to
    std::int64_t slot = 0;   ///< its place in that ask
    Candidate candidate;
    std::vector<double> encoding;
    std::string design;       ///< "knob=value, ..." of the active knobs
    std::string model;        ///< the model's params, YAML flow
    std::string accelerator;  ///< the accelerator's name and knob settings
    bool ok = true;
    std::string reason;
    double violation = 0;  ///< how far from feasible (objective.hpp): 0 when ok
    bool cached = false;  ///< a repeat of a candidate evaluated earlier in the run
    double accuracy = 0;
    double accuracy_stddev = 0;  ///< the estimator's uncertainty (0: none given)
    std::string accuracy_source;
    /// The estimate's sparsity per tensor role (AccuracyEstimate::sparsity; empty: none).
    std::map<std::string, double> accuracy_sparsity;
    /// The engine's training behind the accuracy (accuracy.trained): its budget and measurements.
    std::optional<TrainingOutcome> training;
    Metrics metrics;
    double dynamic_j = 0, leakage_j = 0;
    std::int64_t cycles = 0;
    double score = 0;
    Objectives objectives{};
    double seconds = 0;  ///< wall time of the evaluation
};

class ExperimentTrainer;

class Evaluator {
public:
    /// Creates the accuracy plugin. The objective's normalisers must be set (see
    /// resolve_normalisers) before evaluate() scores anything. `model_steps_kept`: how many
    /// distinct models' step graphs to keep for reuse (0: rebuild every time).
    Evaluator(const Experiment& ex, PluginHost& host, std::size_t model_steps_kept = 16);
    ~Evaluator();

    /// Evaluates a joint candidate (model knobs, then accelerator knobs).
    EvaluationRecord evaluate(const Candidate& joint) const;
    /// Evaluates a fixed pair of configs; the baseline (apply_budget false) is held to neither the
    /// budget nor the time limit. With search.evaluation_timeout_s > 0, an evaluation still running
    /// after that many seconds stops
    /// at the next deadline check (common/deadline.hpp) and is infeasible with the reason
    /// "timed out after N s (search.evaluation_timeout_s)".
    EvaluationRecord evaluate_pair(const config::Node& model, const config::Node& accelerator, const std::string& accelerator_name,
                                   bool apply_budget = true) const;

    const ObjectiveSettings& objective() const { return objective_; }
    /// Asks the accuracy estimator whether it can speak for the models of the space: `samples`
    /// candidates drawn from the joint space (seeded by the experiment), decoded to model params
    /// (accelerator knobs that set model params included), go to AccuracyEstimator::check_models.
    /// Throws the estimator's ConfigError.
    void check_accuracy_domain(std::size_t samples) const;
    /// Replaces 0 normalisers with the baseline record's metrics.
    void resolve_normalisers(const EvaluationRecord& baseline);
    /// Fills score and objectives of a record from its metrics and violation (constrained
    /// domination, objective.hpp).
    void score(EvaluationRecord& r) const;

private:
    /// A model as the evaluator simulates it: resolved, its step graph (the experiment's mode)
    /// and that graph prepared with the experiment's sparsity, or why the model was refused.
    struct ModelStep {
        std::optional<LoadedModel> model;
        std::string refused;
        ModelGraph step;
        std::unique_ptr<PreparedGraph> prepared;  ///< with the experiment's sparsity
        /// With the sparsity the accuracy estimator gave for this model (made once, when needed).
        mutable std::once_flag candidate_once;
        mutable std::unique_ptr<PreparedGraph> candidate_prepared;
    };
    std::shared_ptr<const ModelStep> model_step(const config::Node& model) const;
    /// evaluate_pair without the time limit (which it sets around this call).
    EvaluationRecord evaluate_pair_within(const config::Node& model, const config::Node& accelerator, const std::string& accelerator_name,
                                          bool apply_budget) const;
    AccuracyEstimate accuracy_of(const LoadedModel& model) const;

    const Experiment& ex_;
    PluginHost& host_;
    ObjectiveSettings objective_;
    PluginPtr<AccuracyEstimator> estimator_;
    std::unique_ptr<ExperimentTrainer> trainer_;
    // One estimate per distinct model (joint searches pair a model with many accelerators).
    mutable std::mutex cache_mutex_;
    mutable std::map<std::string, std::shared_future<AccuracyEstimate>> accuracy_cache_;
    // The model steps of the last few distinct models: building a BERT-Base training graph costs
    // about 16x a one-shot analytic simulation of it, and searches pair one model with many
    // accelerators. Bounded, oldest out first; the results do not depend on it.
    std::size_t model_steps_kept_;
    mutable std::mutex step_mutex_;
    mutable std::map<std::string, std::shared_ptr<const ModelStep>> step_cache_;
    mutable std::deque<std::string> step_order_;
};

/// Fraction of zeros per tensor role, pooled (zeros / values) over the pruning points of the role:
/// `activation` (dense, attention_scores, attention_probabilities), `activation_gradient`,
/// `weight_gradient`. The logits and their gradient (never pruned) are left out; a role without
/// values is absent.
std::map<std::string, double> role_sparsity(const std::map<PruningPoint, RoleCount>& points);

/// FNV-1a of a text, mixed with a seed: per-candidate seeds that do not depend on timing.
std::uint64_t seed_from(std::uint64_t seed, const std::string& text);

}  // namespace transcode::engine
