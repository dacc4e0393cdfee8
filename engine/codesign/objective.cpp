#include "codesign/objective.hpp"

#include <pagmo/utils/hypervolume.hpp>

#include <algorithm>
#include <cmath>

namespace transcode::engine {

double budget_violation(const ObjectiveSettings& o, const Metrics& m) {
    double v = 0;
    auto over = [&](double value, double limit) {
        if (limit > 0 && value > limit) v += value / limit - 1.0;
    };
    over(m.area_mm2, o.max_area_mm2);
    over(m.latency_s, o.max_latency_s);
    over(m.energy_j, o.max_energy_j);
    over(m.latency_s, o.latency_s * max_cost_ratio);
    over(m.energy_j, o.energy_j * max_cost_ratio);
    over(m.area_mm2, o.area_mm2 * max_cost_ratio);
    // A cost exactly at the ratio adds nothing above but is still out of range.
    auto at = [](double value, double normaliser) { return normaliser > 0 && value >= normaliser * max_cost_ratio; };
    const bool at_ratio = at(m.latency_s, o.latency_s) || at(m.energy_j, o.energy_j) || at(m.area_mm2, o.area_mm2);
    if (v == 0 && at_ratio) v = 1e-9;
    return std::isnan(v) ? max_measured_violation : std::min(v, max_measured_violation);
}

double infeasible_score(const ObjectiveSettings& o, double violation) { return o.penalty - violation; }

double weighted_score(const ObjectiveSettings& o, const Metrics& m) {
    return o.w_accuracy * m.accuracy + o.w_latency * (1.0 - m.latency_s / o.latency_s) + o.w_energy * (1.0 - m.energy_j / o.energy_j) +
           o.w_area * (1.0 - m.area_mm2 / o.area_mm2);
}

Objectives normalised_objectives(const ObjectiveSettings& o, const Metrics& m) {
    return {1.0 - m.accuracy, m.latency_s / o.latency_s, m.energy_j / o.energy_j, m.area_mm2 / o.area_mm2};
}

namespace {
bool dominates(const Objectives& a, const Objectives& b) {
    bool strictly = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] > b[i]) return false;
        if (a[i] < b[i]) strictly = true;
    }
    return strictly;
}
}  // namespace

std::vector<std::size_t> pareto_front(const std::vector<Objectives>& points) {
    std::vector<std::size_t> front;
    for (std::size_t i = 0; i < points.size(); ++i) {
        bool keep = true;
        for (std::size_t j = 0; j < points.size() && keep; ++j) {
            if (j == i) continue;
            if (dominates(points[j], points[i]) || (j < i && points[j] == points[i])) keep = false;
        }
        if (keep) front.push_back(i);
    }
    return front;
}

void add_to_front(std::vector<Objectives>& front, const Objectives& point) {
    for (const auto& p : front)
        if (p == point || dominates(p, point)) return;
    front.erase(std::remove_if(front.begin(), front.end(), [&](const Objectives& p) { return dominates(point, p); }), front.end());
    front.push_back(point);
}

double hypervolume(const std::vector<Objectives>& points, const Objectives& reference) {
    std::vector<pagmo::vector_double> inside;
    for (const auto& p : points) {
        bool below = true;
        for (std::size_t i = 0; i < p.size(); ++i) below = below && p[i] < reference[i];
        if (below) inside.emplace_back(p.begin(), p.end());
    }
    if (inside.empty()) return 0.0;
    const pagmo::hypervolume hv(inside, true);
    return hv.compute(pagmo::vector_double(reference.begin(), reference.end()));
}

}  // namespace transcode::engine
