#include "trained.hpp"

#include <cmath>
#include <memory>
#include <string>

namespace transcode::plugins::accuracy {

namespace {

constexpr const char* plugin_name = "accuracy.trained";

ParamSchema trained_schema() {
    return {
        ParamSpec::integer("epochs",
                           "passes over the experiment's training data before the validation accuracy is measured. A few epochs "
                           "rank candidates; they do not reach converged accuracy")
            .unit("epochs")
            .min(1)
            .default_value(2),
    };
}

std::string epochs_text(std::int64_t n) { return std::to_string(n) + (n == 1 ? " epoch" : " epochs"); }

}  // namespace

Trained::Trained(const Params& params) : epochs_(params.get_int("epochs")) {
    if (epochs_ < 1) throw ConfigError("epochs", std::string(plugin_name) + ": epochs must be >= 1, got " + std::to_string(epochs_));
}

AccuracyEstimate Trained::estimate(const AccuracyRequest& request) const {
    if (request.trainer == nullptr) throw InternalError(std::string(plugin_name) + ": the request carries no trainer");
    // A ConfigError (a model the family refuses) propagates as is: the engine records the candidate
    // as infeasible with that reason.
    const TrainingOutcome outcome = request.trainer->train(request.model_params, epochs_, request.seed);
    const double a = outcome.validation_accuracy;
    // An accuracy outside [0, 1] (or NaN) would silently corrupt every objective built on it.
    if (!(a >= 0.0 && a <= 1.0))
        throw InternalError(std::string(plugin_name) + ": the trainer returned validation accuracy " + std::to_string(a) + ", outside [0, 1]");
    AccuracyEstimate e{a, "trained: " + epochs_text(epochs_) + " on " + outcome.task, {}};
    // The sparsity DynaProp (or whichever strategy) measured per role while training.
    e.sparsity = outcome.sparsity;
    return e;
}

Factory trained_factory() {
    return Factory{
        PluginKind::accuracy,
        plugin_name,
        "Trained: the validation accuracy after training the candidate for a few epochs on the experiment's task\n"
        "Calls the engine's trainer (the experiment's data, optimizer and pruning) with the candidate's parameters,\n"
        "`epochs` and the candidate's seed, and returns the validation accuracy it measured. The source reads\n"
        "\"trained: N epochs on <task>\". Slow but measured; a model the trainer refuses is a ConfigError (infeasible).",
        trained_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Trained>(params); },
    };
}

}  // namespace transcode::plugins::accuracy
