#include "dynaprop.hpp"

#include <limits>
#include <memory>
#include <string>

namespace transcode::plugins::pruning {

namespace {

constexpr const char* plugin_name = "pruning.dynaprop";

// A per-point threshold: optional (no default), so that when it is not given the point uses the
// fallback's value (tau_i_train, tau_i_infer or tau_t).
ParamSpec point_threshold(const char* name, const std::string& doc, const char* fallback) {
    return ParamSpec::floating(name, doc + "; when not given, " + fallback + " applies").min(0.0);
}

ParamSchema dynaprop_schema() {
    return {
        ParamSpec::floating("tau_i_train",
                            "activation threshold in training: the forward pass zeroes every activation x with |x| <= tau_i_train")
            .min(0.0)
            .default_value(0.01),
        ParamSpec::floating("tau_i_infer",
                            "activation threshold at inference: the forward pass zeroes every activation x with |x| <= tau_i_infer")
            .min(0.0)
            .default_value(0.01),
        ParamSpec::floating("tau_t",
                            "gradient threshold: in training, the backward pass zeroes every gradient g with |g| <= tau_t "
                            "(for the roles in `targets`)")
            .min(0.0)
            .default_value(1e-4),
        ParamSpec::list("targets",
                        "gradient roles pruned with tau_t in training. Both by default: pruning activation gradients is what "
                        "lets the backward pass skip MACs, and pruning weight gradients sparsifies the optimizer update. "
                        "An empty list prunes activations only",
                        ParamSpec::enumeration("target", "a gradient role", {"weight_gradient", "activation_gradient"}))
            .default_value(ValueList{Value("weight_gradient"), Value("activation_gradient")}),
        point_threshold("tau_dense_train", "activation threshold in training for dense outputs (matmul and bias-add outputs that are "
                                           "neither attention scores nor logits)", "tau_i_train"),
        point_threshold("tau_dense_infer", "activation threshold at inference for dense outputs", "tau_i_infer"),
        point_threshold("tau_attention_scores_train",
                        "activation threshold in training for attention scores (outputs that feed a softmax, before its scale)", "tau_i_train"),
        point_threshold("tau_attention_scores_infer", "activation threshold at inference for attention scores", "tau_i_infer"),
        point_threshold("tau_attention_probabilities_train",
                        "activation threshold in training for attention probabilities (softmax outputs; a uniform row of S "
                        "holds 1/S)", "tau_i_train"),
        point_threshold("tau_attention_probabilities_infer", "activation threshold at inference for attention probabilities", "tau_i_infer"),
        point_threshold("tau_activation_gradient", "gradient threshold for activation gradients (if `targets` has them)", "tau_t"),
        point_threshold("tau_weight_gradient", "gradient threshold for weight gradients (if `targets` has them)", "tau_t"),
    };
}

// A per-point threshold, or the fallback's when the point has none.
float read_point(const Params& params, std::string_view name, std::string_view fallback) {
    return float_threshold(read_threshold(params, params.has(name) ? name : fallback, plugin_name));
}

}  // namespace

DynaProp::DynaProp(const Params& params)
    : dense_{read_point(params, "tau_dense_train", "tau_i_train"), read_point(params, "tau_dense_infer", "tau_i_infer")},
      scores_{read_point(params, "tau_attention_scores_train", "tau_i_train"), read_point(params, "tau_attention_scores_infer", "tau_i_infer")},
      probabilities_{read_point(params, "tau_attention_probabilities_train", "tau_i_train"),
                     read_point(params, "tau_attention_probabilities_infer", "tau_i_infer")},
      activation_gradient_(read_point(params, "tau_activation_gradient", "tau_t")),
      weight_gradient_(read_point(params, "tau_weight_gradient", "tau_t")),
      gradient_targets_(read_roles(params, "targets", {TensorRole::weight_gradient, TensorRole::activation_gradient}, plugin_name)) {}

bool DynaProp::prunes(TensorRole role, RunMode mode) const {
    if (role == TensorRole::activation) return true;
    return mode == RunMode::training && gradient_targets_.contains(role);
}

float DynaProp::threshold(PruningPoint point, RunMode mode) const {
    const bool training = mode == RunMode::training;
    switch (point) {
        case PruningPoint::dense: return training ? dense_.train : dense_.infer;
        case PruningPoint::attention_scores: return training ? scores_.train : scores_.infer;
        case PruningPoint::attention_probabilities: return training ? probabilities_.train : probabilities_.infer;
        case PruningPoint::activation_gradient: return activation_gradient_;
        case PruningPoint::weight_gradient: return weight_gradient_;
        case PruningPoint::unspecified:
        case PruningPoint::logits:
        case PruningPoint::logits_gradient: break;
    }
    return -std::numeric_limits<float>::infinity();
}

PruneStats DynaProp::prune(TensorView t, RunMode mode) const {
    const std::int64_t n = element_count(t);
    if (n == 0) return {};
    const PruningPoint point = t.resolved_point();
    const bool pruned = prunes(t.role, mode) && !never_pruned(point) && point != PruningPoint::unspecified;
    const std::int64_t zeros = pruned ? zero_small(t.data, n, threshold(point, mode)) : count_zeros(t.data, n);
    return {zeros, n};
}

Factory dynaprop_factory() {
    return Factory{
        PluginKind::pruning,
        plugin_name,
        "DynaProp (the default): zero activations with |x| <= tau_i and, in training, gradients with |g| <= tau_t\n"
        "Forward pass: every activation x with |x| <= tau_i_train (training) or tau_i_infer (inference) becomes 0.\n"
        "Backward pass, training only: every gradient g with |g| <= tau_t becomes 0, for the roles in `targets`.\n"
        "Each pruning point (dense, attention_scores, attention_probabilities, activation_gradient, weight_gradient)\n"
        "may have its own threshold (tau_<point>_train / _infer, tau_<point>); a point without one uses tau_i_train,\n"
        "tau_i_infer or tau_t. The logits and their gradient are never pruned.\n"
        "Weights and optimizer state are never pruned (their zeros are still counted).\n"
        "Comparisons are exact: x is pruned when the real number |x| is <= tau (at tau 0.1, the float 0.1f, which is\n"
        "0.100000001..., is kept). A threshold of 0 zeroes only exact zeros (including -0.0), so it leaves nonzero\n"
        "data bit-for-bit unchanged.\n"
        "NaN is left untouched, since |NaN| <= tau is false; it is not counted as a zero.",
        dynaprop_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<DynaProp>(params); },
    };
}

}  // namespace transcode::plugins::pruning
