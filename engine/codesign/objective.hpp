// The co-design objective: one weighted score (maximised) and four normalised objectives
// (minimised) for Pareto fronts and their hypervolume.
//
//   score = w_accuracy * accuracy + w_latency * (1 - latency / L) + w_energy * (1 - energy / E)
//         + w_area * (1 - area / A)
//   objectives = (1 - accuracy, latency / L, energy / E, area / A)
//
// with the normalisers L, E, A of the experiment (by default the baseline pair's values, so that
// the baseline scores w_accuracy * its accuracy and sits at (1 - acc, 1, 1, 1)).
//
// Constrained domination (Deb 2000) everywhere: a feasible design always ranks above an infeasible
// one, and infeasible designs rank by how far they are from feasible (their violation).
//   * score: an infeasible design scores penalty - violation, and the penalty lies below the lowest
//     score a feasible design can have (ObjectiveSettings::feasible_score_floor; checked when the experiment loads).
//   * objectives: an infeasible design gets over_budget_objective_offset + violation on every
//     objective, above every feasible design's objectives, so that it is dominated by every
//     feasible design and, among infeasible ones, by every design with a smaller violation.
// Both rest on feasible costs being bounded: a design whose normalised latency, energy or area
// reaches max_cost_ratio (codesign_config.hpp) is infeasible (its costs are outside the range the objective ranks).
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "design_space/codesign_config.hpp"
#include "transcode/search.hpp"

namespace transcode::engine {

struct Metrics {
    double accuracy = 0;   ///< fraction
    double latency_s = 0;  ///< one step (training or inference, as the experiment's mode)
    double energy_j = 0;
    double area_mm2 = 0;
};

using Objectives = std::array<double, 4>;

/// Measured violations are capped here, below the SDK's unmeasured_violation (transcode/search.hpp).
inline constexpr double max_measured_violation = 999;

/// How far measured metrics are from the budgets: the sum, over the budgets set, of
/// max(0, value / budget - 1), capped at max_measured_violation; 0 when every budget is met.
/// Also nonzero when a normalised cost reaches max_cost_ratio (by value / (L * max_cost_ratio) - 1).
double budget_violation(const ObjectiveSettings& o, const Metrics& m);

double weighted_score(const ObjectiveSettings& o, const Metrics& m);
/// penalty - violation: below every feasible score, lower the further from feasible.
double infeasible_score(const ObjectiveSettings& o, double violation);
Objectives normalised_objectives(const ObjectiveSettings& o, const Metrics& m);

/// Indices of the non-dominated points (minimisation), in input order. Of equal points, the first
/// is kept.
std::vector<std::size_t> pareto_front(const std::vector<Objectives>& points);

/// Adds a point to a set of mutually non-dominated points (minimisation): dropped when a member
/// dominates or equals it; otherwise added, and the members it dominates removed.
void add_to_front(std::vector<Objectives>& front, const Objectives& point);

/// The hypervolume the points dominate up to `reference` (pagmo's exact algorithms). Points that
/// do not strictly dominate the reference in every objective add nothing and are left out.
double hypervolume(const std::vector<Objectives>& points, const Objectives& reference);

}  // namespace transcode::engine
