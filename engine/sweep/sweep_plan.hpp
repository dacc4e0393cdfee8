// SweepPlan: an experiment of `kind: sweep` read and checked. The file holds a base experiment of
// kind `sweep.of` (simulate, train or train_and_simulate) and a list of axes, each a config path in
// the syntax of `--set` with the values it takes. Point k is the base document with the axis values
// of point k applied, exactly as `transcode run BASE --set PATH=VALUE ...` would apply them; every
// point is loaded and validated as an experiment of kind `of` before anything runs.
//
// sweep/ does not include experiment/: how a point document is validated and run comes in as
// SweepPointKind, which the experiment loader supplies.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "plugin_host/plugin_host.hpp"

namespace transcode::engine {

/// The most points a sweep may have (after product or zip), and the most values a range may give.
inline constexpr std::size_t max_sweep_points = 100000;

/// The kinds a sweep's points may be (sweep.of).
inline const std::vector<std::string>& sweep_point_kinds() {
    static const std::vector<std::string> kinds{"simulate", "train", "train_and_simulate"};
    return kinds;
}

enum class SweepCombine { product, zip };

/// One axis: a config path and the values it takes, as YAML nodes.
struct SweepAxis {
    std::string path;
    config::Location where;             ///< where sweep.axes[i].path is
    std::vector<config::Node> values;   ///< each located where the sweep gives it (a range's values: at the range)
    std::vector<std::string> texts;     ///< each value as one-line YAML (sweep.csv's cells, the store)
};

/// What sweep/ needs from the experiment loader: how to validate a point's document as an
/// experiment (throws ConfigError), and how to run it into a folder as a standalone run would
/// (returns its results.json document).
struct SweepPointKind {
    std::function<void(config::Node doc, const std::filesystem::path& file, PluginHost& host)> validate;
    std::function<nlohmann::json(config::Node doc, const std::filesystem::path& file, const std::filesystem::path& out, PluginHost& host)> run;
};

struct SweepPlan {
    std::filesystem::path file;  ///< the experiment file
    std::string name;            ///< the experiment's name
    std::string of;              ///< the kind of each point
    SweepCombine combine = SweepCombine::product;
    std::vector<SweepAxis> axes;
    double point_timeout_s = 0;  ///< 0: none
    config::Node base;           ///< the experiment without `sweep:`, with kind = of
    SweepPointKind kind;

    /// How many points: the product of the axes' sizes, or (zip) their common size.
    std::size_t points() const;
    /// The index into each axis's values of point `point` (product: the last axis varies fastest).
    std::vector<std::size_t> value_indices(std::size_t point) const;
    /// The values of point `point` as text, one per axis.
    std::vector<std::string> value_texts(std::size_t point) const;
    /// The base document with the axis values of point `point` applied (as `--set` applies them).
    /// The nodes an axis sets are located at the sweep section: the value at its place in the list
    /// (or at the range), any key the path adds at sweep.axes[i].path. Problems go to `diags`, at
    /// sweep.axes[i].path.
    config::Node point_document(std::size_t point, config::Diagnostics& diags) const;
    /// What a resumed store must agree on: `of`, the base document and every point's values.
    std::string signature() const;
};

/// Reads the `sweep:` section of `root` (a document of kind sweep) and validates every point
/// with `kind.validate`. Every problem goes to `diags` as FILE:LINE:COL: error: path: message (rule):
/// the section's own (unknown keys, `of`, empty values, ranges, zip lengths, the point limit), a
/// path that is no setting of a `of` experiment (at sweep.axes[i].path), and a point's own errors
/// (prefixed with the point and its values).
SweepPlan load_sweep_plan(const config::Node& root, const std::filesystem::path& file, SweepPointKind kind, PluginHost& host,
                          config::Diagnostics& diags);

}  // namespace transcode::engine
