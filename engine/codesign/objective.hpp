// The co-design objective: one weighted score (maximised) and four normalised objectives
// (minimised) for Pareto fronts and their hypervolume.
//
//   score = w_accuracy * accuracy + w_latency * (1 - latency / L) + w_energy * (1 - energy / E)
//         + w_area * (1 - area / A)
//   objectives = (1 - accuracy, latency / L, energy / E, area / A)
//
// with the normalisers L, E, A of the experiment (by default the baseline pair's values, so that
// the baseline scores w_accuracy * its accuracy and sits at (1 - acc, 1, 1, 1)).
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "design_space/codesign_config.hpp"

namespace transcode::engine {

struct Metrics {
    double accuracy = 0;   ///< fraction
    double latency_s = 0;  ///< one step (training or inference, as the experiment's mode)
    double energy_j = 0;
    double area_mm2 = 0;
};

using Objectives = std::array<double, 4>;

double weighted_score(const ObjectiveSettings& o, const Metrics& m);
Objectives normalised_objectives(const ObjectiveSettings& o, const Metrics& m);

/// Indices of the non-dominated points (minimisation), in input order. Of equal points, the first
/// is kept.
std::vector<std::size_t> pareto_front(const std::vector<Objectives>& points);

/// The hypervolume the points dominate up to `reference` (pagmo's exact algorithms). Points that
/// do not strictly dominate the reference in every objective add nothing and are left out.
double hypervolume(const std::vector<Objectives>& points, const Objectives& reference);

}  // namespace transcode::engine
