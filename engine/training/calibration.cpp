#include "training/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "training/trainer.hpp"

namespace transcode::engine {

namespace {

bool is_activation_point(PruningPoint p) {
    return p == PruningPoint::dense || p == PruningPoint::attention_scores || p == PruningPoint::attention_probabilities;
}

}  // namespace

CalibrationCollector::CalibrationCollector(const std::map<PruningPoint, double>& targets, const PruningStrategy* inner) : targets_(targets), inner_(inner) {
    for (const auto& target : targets) values_[target.first];
}

bool CalibrationCollector::prunes(TensorRole role, RunMode mode) const {
    return inner_ != nullptr ? inner_->prunes(role, mode) : role == TensorRole::activation || mode == RunMode::training;
}

PruneStats CalibrationCollector::prune(TensorView t, RunMode mode) const {
    const std::int64_t n = t.size();
    if (mode == RunMode::training)
        if (auto it = values_.find(t.resolved_point()); it != values_.end())
            for (std::int64_t i = 0; i < n; ++i) it->second.push_back(std::fabs(t.data[i]));
    if (inner_ != nullptr) return inner_->prune(t, mode);
    std::int64_t zeros = 0;
    for (std::int64_t i = 0; i < n; ++i) zeros += t.data[i] == 0.0f ? 1 : 0;
    return {zeros, n};
}

std::map<PruningPoint, CalibratedPoint> CalibrationCollector::thresholds() {
    std::map<PruningPoint, CalibratedPoint> out;
    for (const auto& [point, target] : targets_) {
        std::vector<float>& v = values_[point];
        CalibratedPoint c;
        c.target = target;
        c.values = static_cast<std::int64_t>(v.size());
        if (!v.empty()) {
            const auto k = static_cast<std::int64_t>(std::llround(target * static_cast<double>(v.size())));
            if (k > 0) {
                std::nth_element(v.begin(), v.begin() + (k - 1), v.end());
                c.threshold = v[static_cast<std::size_t>(k - 1)];
            }
            const auto tau = static_cast<float>(c.threshold);
            c.sparsity = static_cast<double>(std::count_if(v.begin(), v.end(), [&](float x) { return x <= tau; })) / static_cast<double>(v.size());
        }
        out[point] = c;
    }
    return out;
}

const std::vector<PruningPoint>& calibratable_points() {
    static const std::vector<PruningPoint> points{PruningPoint::dense, PruningPoint::attention_scores, PruningPoint::attention_probabilities,
                                                  PruningPoint::activation_gradient, PruningPoint::weight_gradient};
    return points;
}

std::string threshold_param(PruningPoint point, RunMode mode) {
    if (!is_activation_point(point)) return fmt::format("tau_{}", to_string(point));
    return fmt::format("tau_{}_{}", to_string(point), mode == RunMode::training ? "train" : "infer");
}

CalibrationReport calibrate(const ModelGraph& step, const Dataset& data, const CalibrationSettings& settings, const TrainingSettings& training,
                            const CalibratedStrategy& make) {
    for (const auto& [point, target] : settings.targets)
        if (std::find(calibratable_points().begin(), calibratable_points().end(), point) == calibratable_points().end() || !(target >= 0.0 && target <= 1.0))
            throw InternalError(fmt::format("calibrate: point {} with target {} (the experiment loader checks these)", to_string(point), target));
    // The same initial weights and first batches as the training run, but the weights stay put.
    ModelGraph frozen = step;
    for (auto& op : frozen.ops)
        if (op.kind == OpKind::optimizer_update) op.attrs["lr"] = 0.0;
    TrainingSettings s = training;
    s.epochs = 1;
    s.max_steps_per_epoch = std::max<std::int64_t>(settings.batches, 1);

    CalibrationReport report;
    for (std::int64_t round = 0; round < std::max<std::int64_t>(settings.rounds, 1); ++round) {
        PluginPtr<PruningStrategy> inner;
        if (round > 0) inner = make(report);
        CalibrationCollector collector(settings.targets, round > 0 ? &*inner : nullptr);
        const TrainingReport r = train(frozen, data, collector, s);
        report.batches = r.steps;
        report.rounds = round + 1;
        report.points = collector.thresholds();
    }
    return report;
}

ValueMap apply_calibration(ValueMap params, const CalibrationReport& calibration) {
    for (const auto& [point, c] : calibration.points) {
        params[threshold_param(point, RunMode::training)] = Value(c.threshold);
        if (is_activation_point(point)) params[threshold_param(point, RunMode::inference)] = Value(c.threshold);
    }
    return params;
}

}  // namespace transcode::engine
