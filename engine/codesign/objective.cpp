#include "codesign/objective.hpp"

#include <pagmo/utils/hypervolume.hpp>

namespace transcode::engine {

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
