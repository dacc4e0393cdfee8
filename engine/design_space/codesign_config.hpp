// The co-design sections of an experiment (kind codesign): the design space (model side,
// accelerator side, or both), the search plugin, the accuracy estimator, the objective, and the
// baseline pair the result is compared with.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "design_space/design_space_file.hpp"
#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "plugin_host/plugin_config.hpp"

namespace transcode::engine {

/// A normalised cost (latency / L, energy / E, area / A) at or above this makes a design infeasible:
/// it bounds feasible scores from below, so that a penalty can lie below all of them.
inline constexpr double max_cost_ratio = 1e5;

/// The weighted score and the normalised objectives (see codesign/objective.hpp).
struct ObjectiveSettings {
    double w_accuracy = 0.5, w_latency = 0.2, w_energy = 0.2, w_area = 0.1;
    /// Normalisers; 0 means "the baseline pair's value".
    double latency_s = 0, energy_j = 0, area_mm2 = 0;
    /// Budgets (0: none): a candidate over any of them is infeasible.
    double max_latency_s = 0, max_energy_j = 0, max_area_mm2 = 0;
    /// The score of an infeasible candidate with no violation (each scores penalty - violation); below
    /// every feasible score (checked at load).
    double penalty = -1e6;
    /// The hypervolume's reference point in normalised objective space:
    /// (1 - accuracy, latency, energy, area).
    std::array<double, 4> reference{1.0, 2.0, 2.0, 2.0};

    /// The lowest score a feasible design can reach: -(w_latency + w_energy + w_area) * (max_cost_ratio - 1).
    double feasible_score_floor() const { return -(w_latency + w_energy + w_area) * (max_cost_ratio - 1.0); }
};

struct CodesignSettings {
    SpaceSide model;
    SpaceSide accelerator;
    DesignSpace joint;  ///< model knobs, then accelerator knobs
    PluginChoice search;
    PluginChoice accuracy;
    ObjectiveSettings objective;
    std::int64_t evaluations = 100;  ///< the budget: candidates asked and evaluated
    std::int64_t batch = 8;          ///< candidates per ask
    std::int64_t give_up_after = 200;  ///< stop when this many evaluations found nothing feasible (0: never)
    /// Wall-clock budget of one evaluation, in seconds (0: none); past it the candidate is infeasible.
    double evaluation_timeout_s = 0;
    std::optional<config::Node> baseline_model, baseline_accelerator;
};

/// A joint candidate (model knobs, then accelerator knobs) decoded into its model and accelerator
/// configs; accelerator knobs that set model params (model_params) are applied to the model.
struct DecodedPair {
    config::Node model;
    config::Node accelerator;
};
DecodedPair decode_joint(const CodesignSettings& cs, const Candidate& joint);

/// The experiment-schema fields of kind codesign: space, search, accuracy, objective, baseline.
std::vector<ParamSpec> codesign_schema_fields();

/// Resolves the co-design sections of a validated experiment (`values` from the schema).
/// `seed` seeds the search's trial start. Problems go to `diags`.
std::optional<CodesignSettings> load_codesign(const config::Node& root, const ValueMap& values, std::uint64_t seed, PluginHost& host,
                                              config::Diagnostics& diags);

}  // namespace transcode::engine
