#include "dynaprop.hpp"

#include <memory>

namespace transcode::plugins::pruning {

namespace {

constexpr const char* plugin_name = "pruning.dynaprop";

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
    };
}

}  // namespace

DynaProp::DynaProp(const Params& params)
    : tau_i_train_(float_threshold(read_threshold(params, "tau_i_train", plugin_name))),
      tau_i_infer_(float_threshold(read_threshold(params, "tau_i_infer", plugin_name))),
      tau_t_(float_threshold(read_threshold(params, "tau_t", plugin_name))),
      gradient_targets_(read_roles(params, "targets", {TensorRole::weight_gradient, TensorRole::activation_gradient}, plugin_name)) {}

bool DynaProp::prunes(TensorRole role, RunMode mode) const {
    if (role == TensorRole::activation) return true;
    return mode == RunMode::training && gradient_targets_.contains(role);
}

float DynaProp::threshold(TensorRole role, RunMode mode) const {
    if (role == TensorRole::activation) return mode == RunMode::training ? tau_i_train_ : tau_i_infer_;
    return tau_t_;
}

PruneStats DynaProp::prune(TensorView t, RunMode mode) const {
    const std::int64_t n = element_count(t);
    if (n == 0) return {};
    const std::int64_t zeros = prunes(t.role, mode) ? zero_small(t.data, n, threshold(t.role, mode)) : count_zeros(t.data, n);
    return {zeros, n};
}

Factory dynaprop_factory() {
    return Factory{
        PluginKind::pruning,
        plugin_name,
        "DynaProp (the default): zero activations with |x| <= tau_i and, in training, gradients with |g| <= tau_t\n"
        "Forward pass: every activation x with |x| <= tau_i_train (training) or tau_i_infer (inference) becomes 0.\n"
        "Backward pass, training only: every gradient g with |g| <= tau_t becomes 0, for the roles in `targets`.\n"
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
