// Calibration of per-point pruning thresholds (DynaTran's threshold profiles): run a few training
// batches without pruning, collect |x| at each pruning point, and pick per point the threshold
// whose pruned fraction matches a target sparsity. The trainer (training/trainer.hpp) calibrates
// before its first step and, with `every_steps`, again during training; calibrate() here is the
// same first calibration on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "plugin_host/plugin_host.hpp"
#include "training/dataset.hpp"
#include "transcode/graph.hpp"
#include "transcode/params.hpp"
#include "transcode/pruning.hpp"

namespace transcode::engine {

struct TrainingSettings;

struct CalibrationSettings {
    std::int64_t batches = 4;  ///< training batches to collect values on (capped at the batches the split has)
    /// Passes over those batches: the first unpruned; each later one pruned by the strategy with the
    /// previous pass's thresholds, collecting every point's values before its own pruning, so that a
    /// threshold accounts for the pruning upstream of its point. A recalibration starts from the
    /// thresholds in effect (its first pass is pruned with them).
    std::int64_t rounds = 6;
    /// Recalibrate during training: before every step that follows a positive multiple of
    /// `every_steps` optimizer steps (counted over the whole run, so a resumed run recalibrates
    /// where the uninterrupted one does), on the next `batches` batches of the epoch's order with
    /// the current weights. 0: calibrate only before the first step.
    std::int64_t every_steps = 0;
    /// Target fraction of zeros, in [0, 1], per calibrated point. Only dense, attention_scores,
    /// attention_probabilities, activation_gradient and weight_gradient can be calibrated.
    std::map<PruningPoint, double> targets;
};

struct CalibratedPoint {
    double target = 0;      ///< the fraction of zeros asked for
    double threshold = 0;   ///< the calibrated threshold: prune |x| <= threshold
    double sparsity = 0;    ///< the fraction of the collected values with |x| <= threshold (ties can raise it above the target)
    std::int64_t values = 0;  ///< values collected at the point
};

struct CalibrationReport {
    std::int64_t batches = 0;  ///< batches the values were collected on
    std::int64_t rounds = 0;   ///< passes made
    std::map<PruningPoint, CalibratedPoint> points;
};

/// Makes the strategy that prunes with a calibration's thresholds (the experiment's strategy with
/// apply_calibration's parameters).
using CalibratedStrategy = std::function<PluginPtr<PruningStrategy>(const CalibrationReport&)>;

/// What calibration collects: a strategy that keeps |x| of every tensor it is handed in training
/// mode at a targeted point, before `inner` (if any) prunes it; without `inner` it prunes nothing
/// (counting the zeros already there).
class CalibrationCollector final : public PruningStrategy {
public:
    CalibrationCollector(const std::map<PruningPoint, double>& targets, const PruningStrategy* inner);
    bool prunes(TensorRole role, RunMode mode) const override;
    PruneStats prune(TensorView t, RunMode mode) const override;
    /// Per targeted point, the exact quantile of the values collected so far (see calibrate());
    /// `batches` and `rounds` are left to the caller. Reorders the collected values.
    std::map<PruningPoint, CalibratedPoint> thresholds();

private:
    std::map<PruningPoint, double> targets_;
    const PruningStrategy* inner_;
    mutable std::map<PruningPoint, std::vector<float>> values_;
};

/// Runs the first `settings.batches` batches of the first training epoch (the same initial weights
/// and batch order as train() with `training`'s seed) forward and backward without updating the
/// weights, collects |x| at every targeted point, and sets each threshold to the exact quantile of
/// the collected values: the k-th smallest |x|, k = round(target · n), so that k of the n values are
/// <= it (0 when k is 0, which prunes only exact zeros). The first pass runs unpruned; each of the
/// `settings.rounds - 1` later passes prunes with `make(previous pass)` and collects each point's
/// values before that point is pruned. `settings.every_steps` is not used: this is the calibration
/// train(CalibratedPruning) makes before its first step, which equals it bit for bit.
CalibrationReport calibrate(const ModelGraph& step, const Dataset& data, const CalibrationSettings& settings, const TrainingSettings& training,
                            const CalibratedStrategy& make);

/// The name of the strategy parameter that holds `point`'s threshold in `mode`: tau_<point>_train /
/// tau_<point>_infer for an activation point, tau_<point> for a gradient point (both modes).
std::string threshold_param(PruningPoint point, RunMode mode);

/// `params` with the calibrated thresholds set: for an activation point, its training and its
/// inference threshold; for a gradient point, its threshold.
ValueMap apply_calibration(ValueMap params, const CalibrationReport& calibration);

/// The points a calibration target may name, as to_string spells them.
const std::vector<PruningPoint>& calibratable_points();

}  // namespace transcode::engine
