#include "codesign/evaluator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <mutex>
#include <optional>

#include "common/deadline.hpp"
#include "experiment/training_run.hpp"
#include "training/calibration.hpp"
#include "training/trainer.hpp"
#include "graph/training_graph.hpp"
#include "report/results.hpp"
#include "simulator/lowering.hpp"

namespace transcode::engine {

std::uint64_t seed_from(std::uint64_t seed, const std::string& text) {
    std::uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
    for (unsigned char ch : text) {
        h ^= ch;
        h *= 1099511628211ULL;
    }
    return h;
}

std::map<std::string, double> role_sparsity(const std::map<PruningPoint, RoleCount>& points) {
    std::map<std::string, RoleCount> pooled;
    for (const auto& [point, count] : points) {
        const char* role = nullptr;
        switch (point) {
            case PruningPoint::dense:
            case PruningPoint::attention_scores:
            case PruningPoint::attention_probabilities: role = "activation"; break;
            case PruningPoint::activation_gradient: role = "activation_gradient"; break;
            case PruningPoint::weight_gradient: role = "weight_gradient"; break;
            default: break;  // the logits and their gradient (never pruned), unclassified tensors
        }
        if (role == nullptr) continue;
        pooled[role].zeros += count.zeros;
        pooled[role].elements += count.elements;
    }
    std::map<std::string, double> out;
    for (const auto& [role, count] : pooled)
        if (count.elements > 0) out[role] = count.sparsity();
    return out;
}

// The engine's training service for accuracy plugins: the experiment's data, optimizer, pruning
// (calibrated when pruning.calibration has targets) and schedule, with the plugin's epochs and seed,
// on one executor thread (the co-design runs candidates in parallel on --threads workers instead).
// It keeps what it measured per model, which the evaluator puts into the record.
class ExperimentTrainer final : public ModelTrainer {
public:
    ExperimentTrainer(const Experiment& ex, PluginHost& host) : ex_(ex), host_(host) {
        pruning_ = host.create<PruningStrategy>(*ex.pruning.info, ex.pruning.params);
        const config::Node* family = ex.codesign->model.base.find("family");
        family_ = family != nullptr ? family->scalar : "flexibert";
    }

    TrainingOutcome train(const Value& model_params, std::int64_t epochs, std::uint64_t seed) const override {
        const auto t0 = std::chrono::steady_clock::now();
        // The params come back from the family's own validation: rebuild the model from them.
        const std::string key = to_json(model_params).dump();
        config::Diagnostics diags;
        const std::string text = fmt::format("{{name: candidate, family: {}, params: {}}}", family_, key);
        const config::Node node = config::load_string(text, "<candidate>", diags);
        std::optional<LoadedModel> model = resolve_model(node, "model", host_, diags);
        if (!model) throw ConfigError(diags.items().empty() ? "the model was refused" : diags.items().front().message);
        const ModelGraph step = make_training_graph(model->forward, ex_.optimizer);
        std::int64_t S = 0, B = 0, classes = 2;
        for (const auto& t : step.tensors)
            if (t.name == "input_ids" && t.is_input && t.shape.size() == 2) B = t.shape[0], S = t.shape[1];
        for (const auto& op : step.ops)
            if (op.kind == OpKind::cross_entropy) classes = step.tensors[static_cast<std::size_t>(op.inputs[0])].shape.back();
        const Dataset& data = dataset(S, classes);
        TrainingSettings settings = ex_.training;
        settings.epochs = epochs;
        settings.seed = seed;
        settings.threads = 1;
        TrainingReport r;
        if (ex_.calibration.targets.empty()) {
            r = engine::train(step, data, **pruning_, settings);
        } else {
            const CalibratedPruning calibrated{ex_.calibration, [&](const CalibrationReport& c) {
                                                   return host_.create<PruningStrategy>(*ex_.pruning.info,
                                                                                        Params(apply_calibration(ex_.pruning.params.values(), c)));
                                               }};
            r = engine::train(step, data, calibrated, settings);
        }
        TrainingOutcome o;
        o.validation_accuracy = r.epochs.back().validation_accuracy;
        o.task = data.description;
        for (const auto& e : r.epochs) o.examples += e.train_examples;
        o.steps = r.steps;
        o.sequence_length = S;
        o.batch_size = B;
        o.epochs = static_cast<std::int64_t>(r.epochs.size());
        o.validation_examples = r.validation_examples;
        o.sparsity = role_sparsity(r.point_sparsity);
        o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::lock_guard lock(mutex_);
        outcomes_[key] = o;
        return o;
    }

    /// What the last training of this model (params JSON) measured, if it was trained.
    std::optional<TrainingOutcome> outcome(const std::string& key) const {
        std::lock_guard lock(mutex_);
        const auto it = outcomes_.find(key);
        if (it == outcomes_.end()) return std::nullopt;
        return it->second;
    }

private:
    // One dataset per sequence length and class count, made once (models differ in both).
    const Dataset& dataset(std::int64_t S, std::int64_t classes) const {
        std::lock_guard lock(mutex_);
        const auto key = std::make_pair(S, classes);
        auto it = data_.find(key);
        if (it == data_.end())
            it = data_.emplace(key, load_dataset(ex_.data, S, classes)).first;
        return it->second;
    }

    const Experiment& ex_;
    PluginHost& host_;
    std::optional<PluginPtr<PruningStrategy>> pruning_;
    std::string family_;
    mutable std::mutex mutex_;
    mutable std::map<std::pair<std::int64_t, std::int64_t>, Dataset> data_;
    mutable std::map<std::string, TrainingOutcome> outcomes_;
};


Evaluator::Evaluator(const Experiment& ex, PluginHost& host, std::size_t model_steps_kept)
    : ex_(ex), host_(host), objective_(ex.codesign->objective), model_steps_kept_(model_steps_kept) {
    estimator_ = host.create<AccuracyEstimator>(*ex.codesign->accuracy.info, ex.codesign->accuracy.params);
    trainer_ = std::make_unique<ExperimentTrainer>(ex, host);
}

Evaluator::~Evaluator() = default;

void Evaluator::resolve_normalisers(const EvaluationRecord& baseline) {
    if (objective_.latency_s == 0) objective_.latency_s = baseline.metrics.latency_s;
    if (objective_.energy_j == 0) objective_.energy_j = baseline.metrics.energy_j;
    if (objective_.area_mm2 == 0) objective_.area_mm2 = baseline.metrics.area_mm2;
}

void Evaluator::score(EvaluationRecord& r) const {
    if (!r.ok) {
        if (!(r.violation > 0)) r.violation = unmeasured_violation;
        r.score = infeasible_score(objective_, r.violation);
        r.objectives.fill(over_budget_objective_offset + r.violation);
        return;
    }
    r.violation = 0;
    r.score = weighted_score(objective_, r.metrics);
    r.objectives = normalised_objectives(objective_, r.metrics);
}

AccuracyEstimate Evaluator::accuracy_of(const LoadedModel& model) const {
    const Value params{model.params.values()};
    const std::string key = to_json(params).dump();
    std::promise<AccuracyEstimate> promise;
    std::shared_future<AccuracyEstimate> future;
    bool mine = false;
    {
        std::lock_guard lock(cache_mutex_);
        auto it = accuracy_cache_.find(key);
        if (it == accuracy_cache_.end()) {
            future = promise.get_future().share();
            accuracy_cache_.emplace(key, future);
            mine = true;
        } else {
            future = it->second;
        }
    }
    if (mine) {
        // The evaluation's deadline can pass inside the engine code the estimator calls back (the
        // trainer of accuracy.trained); call_plugin would report that as the plugin's failure, so
        // it is noted on the way through and passed on as what it is.
        bool deadline_passed = false;
        try {
            const std::string& family = model.family->name;
            const AccuracyRequest request{params, family, seed_from(ex_.seed, key), trainer_.get()};
            promise.set_value(call_plugin(estimator_.name(), "estimate", [&] {
                try {
                    return estimator_->estimate(request);
                } catch (const DeadlineExceeded&) {
                    deadline_passed = true;
                    throw;
                }
            }));
        } catch (...) {
            promise.set_exception(deadline_passed ? std::make_exception_ptr(DeadlineExceeded()) : std::current_exception());
        }
    }
    return future.get();
}

std::shared_ptr<const Evaluator::ModelStep> Evaluator::model_step(const config::Node& model_node) const {
    const std::string key = to_flow_text(model_node);
    {
        std::lock_guard lock(step_mutex_);
        if (auto it = step_cache_.find(key); it != step_cache_.end()) return it->second;
    }
    // Built outside the lock: two threads may build the same model at once, and keep the first.
    auto ms = std::make_shared<ModelStep>();
    config::Diagnostics diags;
    ms->model = resolve_model(model_node, "model", host_, diags);
    if (!diags.empty()) {
        ms->model.reset();
        ms->refused = fmt::format("{}: {}", diags.items().front().path, diags.items().front().message);
    } else {
        ms->step = ex_.mode == RunMode::training ? make_training_graph(ms->model->forward, ex_.optimizer) : ms->model->forward;
        ms->prepared = std::make_unique<PreparedGraph>(ms->step, sparsity_per_tensor(ms->step, ex_.simulation.sparsity));
    }
    if (model_steps_kept_ == 0) return ms;
    std::lock_guard lock(step_mutex_);
    auto [it, added] = step_cache_.emplace(key, std::move(ms));
    if (added) {
        step_order_.push_back(key);
        if (step_order_.size() > model_steps_kept_) {
            step_cache_.erase(step_order_.front());
            step_order_.pop_front();
        }
    }
    return it->second;
}

EvaluationRecord Evaluator::evaluate_pair(const config::Node& model_node, const config::Node& accelerator_node, const std::string& accelerator_name,
                                          bool apply_budget) const {
    // The baseline (apply_budget false) is held to no budget, the time limit included: it is one
    // evaluation, and the run cannot be scored without it.
    const double limit = apply_budget && ex_.codesign ? ex_.codesign->evaluation_timeout_s : 0.0;
    if (limit <= 0) return evaluate_pair_within(model_node, accelerator_node, accelerator_name, apply_budget);
    const auto t0 = std::chrono::steady_clock::now();
    try {
        const DeadlineScope deadline(limit);
        return evaluate_pair_within(model_node, accelerator_node, accelerator_name, apply_budget);
    } catch (const DeadlineExceeded&) {
        // Cooperative: the simulator or the trainer stopped at a check and unwound normally, so
        // nothing is left half-done. The record is infeasible like any other and is stored as such.
        EvaluationRecord r;
        r.accelerator = accelerator_name;
        if (const config::Node* params = model_node.find("params")) r.model = to_flow_text(*params);
        r.ok = false;
        r.reason = fmt::format("timed out after {} s (search.evaluation_timeout_s)", limit);
        score(r);
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return r;
    }
}

EvaluationRecord Evaluator::evaluate_pair_within(const config::Node& model_node, const config::Node& accelerator_node, const std::string& accelerator_name,
                                                 bool apply_budget) const {
    const auto t0 = std::chrono::steady_clock::now();
    EvaluationRecord r;
    r.accelerator = accelerator_name;
    auto finish = [&] {
        score(r);
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return r;
    };
    auto infeasible = [&](std::string reason) {
        r.ok = false;
        r.reason = std::move(reason);
        return finish();
    };
    if (const config::Node* params = model_node.find("params")) r.model = to_flow_text(*params);
    const std::shared_ptr<const ModelStep> ms = model_step(model_node);
    check_deadline();
    if (!ms->model) return infeasible(ms->refused);
    config::Diagnostics diags;
    const std::optional<Accelerator> acc = resolve_accelerator(accelerator_node, "accelerator", host_, diags);
    if (!diags.empty()) return infeasible(fmt::format("{}: {}", diags.items().front().path, diags.items().front().message));
    const LoadedModel* model = &*ms->model;
    r.model = to_json(Value{model->params.values()}).dump();
    if (const auto missing = unsupported_op_kinds(*ms->prepared, *acc); !missing.empty())
        return infeasible(fmt::format("the accelerator has no unit that executes op kind '{}' (op '{}')", to_string(missing.front().first), missing.front().second));
    SimulationOptions so;
    so.fidelity = ex_.simulation.fidelity;
    so.training = ex_.mode == RunMode::training;
    so.op_records = false;  // a candidate is judged by the totals
    auto measure = [&](const PreparedGraph& graph) -> std::optional<std::string> {
        const SimulationResult sim = simulate(graph, *acc, so);
        if (sim.status != "ok") return sim.reason;
        r.metrics.latency_s = sim.seconds;
        r.metrics.energy_j = sim.total_j();
        r.metrics.area_mm2 = sim.area_mm2;
        r.dynamic_j = sim.dynamic_j;
        r.leakage_j = sim.leakage_j;
        r.cycles = sim.cycles;
        return std::nullopt;
    };
    // The budgets; with area_only, just what sparsity cannot change (checked before the accuracy,
    // which may mean training).
    auto over_budget = [&](bool area_only) -> std::optional<std::string> {
        if (!apply_budget) return std::nullopt;
        const ObjectiveSettings& o = objective_;
        std::vector<std::string> over;
        if (o.max_area_mm2 > 0 && r.metrics.area_mm2 > o.max_area_mm2)
            over.push_back(fmt::format("area {:.4g} mm2 is over the budget of {:.4g} mm2", r.metrics.area_mm2, o.max_area_mm2));
        if (!area_only && o.max_latency_s > 0 && r.metrics.latency_s > o.max_latency_s)
            over.push_back(fmt::format("latency {:.4g} s is over the budget of {:.4g} s", r.metrics.latency_s, o.max_latency_s));
        if (!area_only && o.max_energy_j > 0 && r.metrics.energy_j > o.max_energy_j)
            over.push_back(fmt::format("energy {:.4g} J is over the budget of {:.4g} J", r.metrics.energy_j, o.max_energy_j));
        // Normalisers are 0 only before the baseline resolved them (tests evaluating directly).
        double ratio = 0;
        for (const auto& [value, normaliser] : {std::pair{r.metrics.latency_s, o.latency_s}, {r.metrics.energy_j, o.energy_j}, {r.metrics.area_mm2, o.area_mm2}})
            if (normaliser > 0) ratio = std::max(ratio, value / normaliser);
        if (!area_only && ratio >= max_cost_ratio)
            over.push_back(fmt::format("a cost is {:.3g} times its normaliser, beyond the {:g} the objective ranks", ratio, max_cost_ratio));
        if (over.empty()) return std::nullopt;
        r.violation = budget_violation(o, r.metrics);
        std::string reason = over.front();
        for (std::size_t i = 1; i < over.size(); ++i) reason += "; " + over[i];
        return fmt::format("{} (violation {:.4g})", reason, r.violation);
    };
    if (auto why = measure(*ms->prepared)) return infeasible(*why);
    if (auto why = over_budget(true)) return infeasible(*why);
    try {
        const AccuracyEstimate a = accuracy_of(*model);
        r.accuracy = a.accuracy;
        r.accuracy_stddev = a.stddev;
        r.accuracy_source = a.source;
        r.metrics.accuracy = a.accuracy;
        r.accuracy_sparsity = a.sparsity;
        r.training = trainer_->outcome(r.model);
    } catch (const ConfigError& e) {
        return infeasible(fmt::format("accuracy: {}", e.what()));
    }
    // Sparsity per candidate: the roles the estimator measured or predicted for this model replace
    // the experiment's (weights keep the experiment's figure).
    if (!r.accuracy_sparsity.empty()) {
        std::call_once(ms->candidate_once, [&] {
            SparsityByRole s = ex_.simulation.sparsity;
            for (const auto& [role, value] : r.accuracy_sparsity) {
                const double v = std::clamp(value, 0.0, 1.0);
                if (role == "activation") s.activation = v;
                if (role == "activation_gradient") s.activation_gradient = v;
                if (role == "weight_gradient") s.weight_gradient = v;
            }
            ms->candidate_prepared = std::make_unique<PreparedGraph>(ms->step, sparsity_per_tensor(ms->step, s));
        });
        if (auto why = measure(*ms->candidate_prepared)) return infeasible(*why);
    }
    if (auto why = over_budget(false)) return infeasible(*why);
    return finish();
}

void Evaluator::check_accuracy_domain(std::size_t samples) const {
    const CodesignSettings& cs = *ex_.codesign;
    if (cs.model.space.size() == 0 && cs.accelerator.space.size() == 0) return;
    std::mt19937_64 rng(seed_from(ex_.seed, "accuracy domain"));
    std::vector<Value> models;
    for (std::size_t i = 0; i < samples; ++i) {
        // Only the params the family validates are needed: no training step, no prepared graph,
        // and the evaluator's step cache is left to the search.
        config::Diagnostics diags;
        const std::optional<LoadedModel> model = resolve_model(decode_joint(cs, cs.joint.sample(rng)).model, "model", host_, diags);
        if (model) models.emplace_back(model->params.values());
    }
    call_plugin(estimator_.name(), "check_models", [&] { estimator_->check_models(models); });
}

EvaluationRecord Evaluator::evaluate(const Candidate& joint) const {
    const CodesignSettings& cs = *ex_.codesign;
    const Candidate ca(joint.begin() + static_cast<std::ptrdiff_t>(cs.model.space.size()), joint.end());
    const DecodedPair pair = decode_joint(cs, joint);
    const std::string acc_name = cs.accelerator.space.size() == 0 ? cs.accelerator.name : fmt::format("{}: {}", cs.accelerator.name, cs.accelerator.space.describe(ca));
    EvaluationRecord r = evaluate_pair(pair.model, pair.accelerator, acc_name);
    r.candidate = joint;
    r.encoding = cs.joint.encode(joint);
    r.design = cs.joint.describe(joint);
    return r;
}

}  // namespace transcode::engine
