// Sweeps (kind sweep, engine/sweep): expansion of the axes (product, zip, ranges), the located
// errors of the sweep section, a point against the standalone run of the base with --set, the
// store and --resume after a kill, and sweep.csv.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/csv_table.hpp"
#include "experiment/experiment.hpp"
#include "sweep/sweep_plan.hpp"
#include "sweep/sweep_point.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace transcode;
using transcode::test::run_cli;
using transcode::test::TempDir;

namespace {

const std::string source_dir = TRANSCODE_SOURCE_DIR;

// A simulate base (lines 1-6) and a sweep section from line 7 on: `sweep` is its body, each line
// indented by two spaces. Line 8 is the first line of the body.
std::string sweep_text(const std::string& sweep) {
    return fmt::format(
        "experiment: s\n"
        "kind: sweep\n"
        "mode: inference\n"
        "model: {{include: \"{0}/configs/models/bert-tiny.yaml\"}}\n"
        "accelerator: {{include: \"{0}/configs/accelerators/acceltran-edge.yaml\"}}\n"
        "simulation: {{fidelity: analytic, trace: false}}\n"
        "sweep:\n"
        "{1}",
        source_dir, sweep);
}

// The same base as a standalone simulate experiment.
std::string base_text() {
    return fmt::format(
        "experiment: s\n"
        "kind: simulate\n"
        "mode: inference\n"
        "model: {{include: \"{0}/configs/models/bert-tiny.yaml\"}}\n"
        "accelerator: {{include: \"{0}/configs/accelerators/acceltran-edge.yaml\"}}\n"
        "simulation: {{fidelity: analytic, trace: false}}\n",
        source_dir);
}

engine::SweepPlan load_plan(const TempDir& dir, const std::string& sweep) {
    const fs::path file = dir.write("sweep.yaml", sweep_text(sweep));
    const engine::Experiment ex = engine::load_experiment(file, {}, test::builtin_plugins());
    REQUIRE(ex.kind == "sweep");
    REQUIRE(ex.sweep_plan != nullptr);
    return *ex.sweep_plan;
}

// The text of the ConfigError that loading the sweep throws ("" when it loads).
std::string load_error(const TempDir& dir, const std::string& sweep) {
    const fs::path file = dir.write("sweep.yaml", sweep_text(sweep));
    try {
        engine::load_experiment(file, {}, test::builtin_plugins());
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

std::vector<std::vector<std::string>> all_points(const engine::SweepPlan& plan) {
    std::vector<std::vector<std::string>> out;
    for (std::size_t k = 0; k < plan.points(); ++k) out.push_back(plan.value_texts(k));
    return out;
}

// sweep.csv without its seconds_s column.
std::vector<std::vector<std::string>> csv_without_seconds(const fs::path& file) {
    const engine::CsvFile csv = engine::parse_csv(test::read_file(file), file.string());
    const std::size_t seconds = csv.column("seconds_s");
    REQUIRE(seconds != std::string::npos);
    std::vector<std::vector<std::string>> out{csv.header};
    for (auto row : csv.rows) {
        row.erase(row.begin() + static_cast<std::ptrdiff_t>(seconds));
        out.push_back(row);
    }
    out.front().erase(out.front().begin() + static_cast<std::ptrdiff_t>(seconds));
    return out;
}

nlohmann::json read_json(const fs::path& file) { return nlohmann::json::parse(test::read_file(file)); }

}  // namespace

TEST_CASE("a sweep with combine product has every combination, the last axis varying fastest") {
    TempDir dir;
    const engine::SweepPlan plan = load_plan(dir,
                                             "  of: simulate\n"
                                             "  axes:\n"
                                             "    - {path: 'accelerator.units[activation_buffer].params.size_mb', values: [1, 2, 4]}\n"
                                             "    - {path: simulation.fidelity, values: [analytic, event]}\n");
    CHECK(plan.of == "simulate");
    CHECK(plan.combine == engine::SweepCombine::product);
    REQUIRE(plan.points() == 6);
    const std::vector<std::vector<std::string>> expected{{"1", "analytic"}, {"1", "event"}, {"2", "analytic"},
                                                         {"2", "event"},    {"4", "analytic"}, {"4", "event"}};
    CHECK(all_points(plan) == expected);
}

TEST_CASE("a sweep with combine zip pairs the i-th values of its axes") {
    TempDir dir;
    const engine::SweepPlan plan = load_plan(dir,
                                             "  of: simulate\n"
                                             "  combine: zip\n"
                                             "  axes:\n"
                                             "    - {path: 'accelerator.units[activation_buffer].params.size_mb', values: [1, 2, 4]}\n"
                                             "    - {path: 'accelerator.units[weight_buffer].params.size_mb', values: [8, 4, 2]}\n");
    REQUIRE(plan.points() == 3);
    const std::vector<std::vector<std::string>> expected{{"1", "8"}, {"2", "4"}, {"4", "2"}};
    CHECK(all_points(plan) == expected);
}

TEST_CASE("a sweep range is inclusive, counts down with a negative step and writes decimals as given") {
    TempDir dir;
    const engine::SweepPlan plan = load_plan(dir,
                                             "  of: simulate\n"
                                             "  combine: zip\n"
                                             "  axes:\n"
                                             "    - {path: 'accelerator.units[activation_buffer].params.size_mb', range: {from: 1, to: 7, step: 2}}\n"
                                             "    - {path: 'accelerator.units[weight_buffer].params.size_mb', range: {from: 16, to: 4, step: -4}}\n"
                                             "    - {path: simulation.sparsity.activation, range: {from: 0.1, to: 0.4, step: 0.1}}\n");
    REQUIRE(plan.points() == 4);
    const std::vector<std::vector<std::string>> expected{{"1", "16", "0.1"}, {"3", "12", "0.2"}, {"5", "8", "0.3"}, {"7", "4", "0.4"}};
    CHECK(all_points(plan) == expected);
    // A range that ends between steps stops at the last value below `to`; step defaults to 1.
    const engine::SweepPlan short_plan = load_plan(dir,
                                                   "  of: simulate\n"
                                                   "  axes:\n"
                                                   "    - {path: 'accelerator.units[activation_buffer].params.size_mb', range: {from: 1, to: 6, step: 2}}\n"
                                                   "    - {path: 'accelerator.units[weight_buffer].params.size_mb', range: {from: 2, to: 3}}\n");
    const std::vector<std::vector<std::string>> expected_short{{"1", "2"}, {"1", "3"}, {"3", "2"}, {"3", "3"}, {"5", "2"}, {"5", "3"}};
    CHECK(all_points(short_plan) == expected_short);
}

TEST_CASE("sweep errors are located at the sweep section with their exact messages, before any point runs") {
    TempDir dir;
    const std::string f = (dir.path() / "sweep.yaml").string();
    // A path that is no setting of a simulate experiment (a typo in a key).
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - path: simulation.fidelty\n"
                     "      values: [analytic, event]\n") ==
          f + ":10:13: error: sweep.axes[0].path: 'simulation.fidelty' is not a setting of a simulate experiment: unknown key 'fidelty'; "
              "did you mean 'fidelity'? (sweep-path)");
    // A list item that does not exist.
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - path: accelerator.units[act_buffer].params.size_mb\n"
                     "      values: [1, 2]\n") ==
          f + ":10:13: error: sweep.axes[0].path: cannot set 'accelerator.units[act_buffer].params.size_mb': 'accelerator.units' has no item named "
              "'act_buffer'; its items: activation_buffer, weight_buffer, mask_buffer, main_memory, interconnect (sweep-path)");
    // A value of the wrong kind, located at the value, for its point.
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - path: simulation.fidelity\n"
                     "      values: [analytic, fast]\n") ==
          f + ":11:26: error: simulation.fidelity: sweep point 1 (simulation.fidelity=fast): 'fast' is not one of: event, analytic (choice)");
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - path: simulation.fidelity\n"
                     "      values: []\n") == f + ":11:15: error: sweep.axes[0].values: values is empty: give at least one value (empty)");
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  combine: zip\n"
                     "  axes:\n"
                     "    - {path: simulation.fidelity, values: [analytic, event]}\n"
                     "    - {path: mode, values: [inference]}\n") ==
          f + ":12:7: error: sweep.axes[1]: combine zip needs axes of equal length: axes[0] (simulation.fidelity) has 2 value(s), axes[1] (mode) has 1 (zip)");
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - {path: simulation.batch_size, range: {from: 1, to: 4, step: 0}}\n") ==
          f + ":10:67: error: sweep.axes[0].range.step: step is 0: a range needs a positive step (to above from) or a negative one (to below from) (range)");
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - {path: simulation.batch_size, range: {from: 1, to: 4, step: -1}}\n") ==
          f + ":10:67: error: sweep.axes[0].range.step: step -1 goes away from to (from 1 to 4): it never reaches it (range)");
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - {path: simulation.batch_size, range: {from: 0, to: 1000000}}\n") ==
          f + ":10:44: error: sweep.axes[0].range: the range gives 1000001 values; a sweep may have at most 100000 points (limit)");
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - {path: simulation.batch_size, range: {from: 1, to: 1000}}\n"
                     "    - {path: simulation.profile_point, range: {from: 1, to: 1000}}\n") ==
          f + ":10:5: error: sweep.axes: the axes give 1000000 points; a sweep may have at most 100000 (limit)");
    CHECK(load_error(dir,
                     "  of: codesign\n"
                     "  axes:\n"
                     "    - {path: simulation.fidelity, values: [analytic]}\n") ==
          f + ":8:7: error: sweep.of: 'codesign' is not a kind a sweep can run; sweep.of is one of: simulate, train, train_and_simulate (choice)");
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axis:\n"
                     "    - {path: simulation.fidelity, values: [analytic]}\n") ==
          f + ":8:3: error: sweep.axes: kind sweep needs sweep.axes: a list of {path: CONFIG.PATH, values: [...]} or {path: ..., range: {from, to, "
              "step}} (required)\n" + f + ":9:3: error: sweep.axis: unknown key 'axis'; did you mean 'axes'? (unknown-key)");
    CHECK(load_error(dir,
                     "  of: simulate\n"
                     "  axes:\n"
                     "    - {path: simulation.fidelity, vals: [analytic]}\n") ==
          f + ":10:7: error: sweep.axes[0].values: an axis needs values (a list) or range ({from, to, step}) (required)\n" + f +
              ":10:35: error: sweep.axes[0].vals: unknown key 'vals'; allowed keys: path, values, range (unknown-key)");
}

TEST_CASE("transcode run of a sweep with a bad path stops with exit 2 and the located error, and runs no point") {
    TempDir dir;
    const fs::path file = dir.write("sweep.yaml", sweep_text("  of: simulate\n"
                                                             "  axes:\n"
                                                             "    - path: model.params.hiden\n"
                                                             "      values: [128, 256]\n"));
    const auto r = run_cli(fmt::format("run {} --quiet --out {}", file.string(), (dir.path() / "out").string()));
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(r.output.find(file.string() + ":10:13: error: sweep.axes[0].path: 'model.params.hiden' is not a setting of a simulate experiment:") !=
                      std::string::npos,
                  r.output);
    CHECK_FALSE(fs::exists(dir.path() / "out" / "points"));
    CHECK_FALSE(fs::exists(dir.path() / "out" / "sweep.db"));
}

TEST_CASE("each sweep point's figures equal a standalone transcode run of the base with --set of that point's values") {
    TempDir dir;
    const fs::path sweep = dir.write("sweep.yaml", sweep_text("  of: simulate\n"
                                                              "  axes:\n"
                                                              "    - path: accelerator.units[activation_buffer].params.size_mb\n"
                                                              "      values: [1, 4]\n"
                                                              "    - path: simulation.sparsity.activation\n"
                                                              "      values: [0, 0.5]\n"));
    const fs::path base = dir.write("base.yaml", base_text());
    const fs::path out = dir.path() / "out";
    const auto r = run_cli(fmt::format("run {} --quiet --threads 2 --out {}", sweep.string(), out.string()));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const nlohmann::json doc = read_json(out / "results.json");
    REQUIRE(doc["sweep"]["points"] == 4);
    CHECK(doc["sweep"]["ok"] == 4);
    const engine::CsvFile csv = engine::parse_csv(test::read_file(out / "sweep.csv"), "sweep.csv");
    REQUIRE(csv.rows.size() == 4);
    CHECK(csv.header[2] == "accelerator.units[activation_buffer].params.size_mb");
    CHECK(csv.header[3] == "simulation.sparsity.activation");
    std::set<std::string> areas;
    for (std::size_t k = 0; k < 4; ++k) {
        CAPTURE(k);
        const auto& row = csv.rows[k];
        const fs::path point = out / engine::sweep_point_folder(k);
        CHECK(fs::exists(point / "ops.csv"));
        const nlohmann::json p = read_json(point / "results.json");
        const fs::path alone = dir.path() / fmt::format("alone{}", k);
        const auto s = run_cli(fmt::format("run {} --quiet --out {} --set 'accelerator.units[activation_buffer].params.size_mb={}' "
                                           "--set simulation.sparsity.activation={}",
                                           base.string(), alone.string(), row[2], row[3]));
        REQUIRE_MESSAGE(s.exit_code == 0, s.output);
        const nlohmann::json a = read_json(alone / "results.json");
        CHECK(p["latency"]["cycles"] == a["latency"]["cycles"]);
        CHECK(p["energy"]["total_j"].get<double>() == a["energy"]["total_j"].get<double>());
        CHECK(p["accelerator"]["area_mm2"].get<double>() == a["accelerator"]["area_mm2"].get<double>());
        // sweep.csv's cells are the point's figures.
        CHECK(row[static_cast<std::size_t>(csv.column("cycles"))] == fmt::format("{}", a["latency"]["cycles"].get<std::int64_t>()));
        CHECK(std::stod(row[csv.column("energy_j")]) == a["energy"]["total_j"].get<double>());
        areas.insert(row[csv.column("area_mm2")]);
    }
    // The list-item path really changes the accelerator: two buffer sizes, two areas.
    CHECK(areas.size() == 2);
}

TEST_CASE("a sweep killed with SIGKILL mid-run and resumed ends with the sweep.csv of an uninterrupted run") {
    TempDir dir;
    const fs::path sweep = dir.write("sweep.yaml", sweep_text("  of: simulate\n"
                                                              "  axes:\n"
                                                              "    - path: accelerator.units[activation_buffer].params.size_mb\n"
                                                              "      values: [1, 2, 4]\n"
                                                              "    - path: accelerator.units[weight_buffer].params.size_mb\n"
                                                              "      range: {from: 4, to: 8, step: 4}\n"));
    const fs::path whole = dir.path() / "whole", killed = dir.path() / "killed";
    REQUIRE(run_cli(fmt::format("run {} --quiet --out {}", sweep.string(), whole.string())).exit_code == 0);
    const auto k = run_cli(fmt::format("run {} --quiet --threads 2 --out {}; echo status=$?", sweep.string(), killed.string()),
                           "TRANSCODE_CRASH_AFTER_COMMITS=3");
    CHECK(k.output.find("status=137") != std::string::npos);
    CHECK_FALSE(fs::exists(killed / "results.json"));
    CHECK_FALSE(fs::exists(killed / "sweep.csv"));
    // Without --resume the stored sweep is refused.
    const auto again = run_cli(fmt::format("run {} --quiet --out {}", sweep.string(), killed.string()));
    CHECK(again.exit_code == 2);
    CHECK(again.output.find((killed / "sweep.db").string() +
                            ": a sweep database is already here; add --resume to carry that sweep on, or choose another --out folder") != std::string::npos);
    // Another sweep (other points) cannot resume it.
    const auto other = run_cli(fmt::format("run {} --quiet --resume --out {} --set simulation.fidelity=event", sweep.string(), killed.string()));
    CHECK(other.exit_code == 2);
    CHECK(other.output.find((killed / "sweep.db").string() + ": cannot resume: the database was made with signature '") != std::string::npos);
    const auto resumed = run_cli(fmt::format("run {} --quiet --resume --threads 2 --out {}", sweep.string(), killed.string()));
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    CHECK(read_json(killed / "results.json")["sweep"]["resumed_from_database"] == 3);
    CHECK(csv_without_seconds(killed / "sweep.csv") == csv_without_seconds(whole / "sweep.csv"));
    // Resuming a finished sweep runs nothing and writes the same table again.
    REQUIRE(run_cli(fmt::format("run {} --quiet --resume --out {}", sweep.string(), killed.string())).exit_code == 0);
    CHECK(read_json(killed / "results.json")["sweep"]["resumed_from_database"] == 6);
    CHECK(csv_without_seconds(killed / "sweep.csv") == csv_without_seconds(whole / "sweep.csv"));
}

TEST_CASE("a sweep point record round-trips through JSON, and a malformed one is a ConfigError") {
    engine::SweepPointRecord r;
    r.index = 7;
    r.values = {"4", "analytic"};
    r.status = engine::SweepPointStatus::infeasible;
    r.reason = "does not fit";
    r.figures = {{"cycles", 123}, {"energy_j", 0.1 + 0.2}};
    r.seconds = 1.5;
    r.folder = "points/0007";
    const engine::SweepPointRecord back = engine::sweep_point_record_from_json(nlohmann::json::parse(engine::to_json(r).dump()));
    CHECK(back.index == 7);
    CHECK(back.values == r.values);
    CHECK(back.status == engine::SweepPointStatus::infeasible);
    CHECK(back.reason == r.reason);
    CHECK(back.figures == r.figures);
    CHECK(back.figures["energy_j"].get<double>() == 0.1 + 0.2);
    CHECK(back.folder == r.folder);
    CHECK_THROWS_AS(engine::sweep_point_record_from_json(nlohmann::json{{"index", 1}}), ConfigError);
}

TEST_CASE("a sweep point past sweep.point_timeout_s is stored as failed with its reason, and the sweep goes on") {
    TempDir dir;
    const fs::path sweep = dir.write("sweep.yaml", sweep_text("  of: simulate\n"
                                                              "  point_timeout_s: 1.0e-9\n"
                                                              "  axes:\n"
                                                              "    - {path: simulation.fidelity, values: [event]}\n"));
    const fs::path out = dir.path() / "out";
    const auto r = run_cli(fmt::format("run {} --quiet --out {}", sweep.string(), out.string()));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const engine::CsvFile csv = engine::parse_csv(test::read_file(out / "sweep.csv"), "sweep.csv");
    REQUIRE(csv.rows.size() == 1);
    CHECK(csv.rows[0][1] == "failed");
    CHECK(csv.rows[0][csv.column("reason")] == "timed out: the point ran past sweep.point_timeout_s (1e-09 s)");
    CHECK(csv.rows[0][csv.column("cycles")].empty());
    const nlohmann::json doc = read_json(out / "results.json");
    CHECK(doc["sweep"]["failed"] == 1);
    CHECK_FALSE(fs::exists(out / "points" / "0000" / "results.json"));
}

TEST_CASE("the shipped sweep configs load: edge-buffer-sweep (6 simulate points) and bert-tiny-train-sweep (4 train points)") {
    const engine::Experiment edge = engine::load_experiment(source_dir + "/configs/experiments/edge-buffer-sweep.yaml", {}, test::builtin_plugins());
    REQUIRE(edge.sweep_plan != nullptr);
    CHECK(edge.sweep_plan->of == "simulate");
    CHECK(edge.sweep_plan->points() == 6);
    const engine::Experiment train = engine::load_experiment(source_dir + "/configs/experiments/bert-tiny-train-sweep.yaml", {}, test::builtin_plugins());
    REQUIRE(train.sweep_plan != nullptr);
    CHECK(train.sweep_plan->of == "train");
    CHECK(train.sweep_plan->points() == 4);
    CHECK(train.kind == "sweep");
}

TEST_CASE("a training sweep point's accuracy and loss equal a standalone kind train run with --set of that point's values") {
    TempDir dir;
    const std::string file = source_dir + "/configs/experiments/bert-tiny-train-sweep.yaml";
    const fs::path out = dir.path() / "out";
    // Two of the shipped four points: the second axis narrowed to one value.
    const auto r = run_cli(fmt::format("run {} --quiet --threads 2 --out {} --set 'sweep.axes[1].values=[0.01]'", file, out.string()));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    const engine::CsvFile csv = engine::parse_csv(test::read_file(out / "sweep.csv"), "sweep.csv");
    REQUIRE(csv.rows.size() == 2);
    for (std::size_t k = 0; k < 2; ++k) {
        CAPTURE(k);
        const auto& row = csv.rows[k];
        CHECK(row[1] == "ok");
        const fs::path alone = dir.path() / fmt::format("alone{}", k);
        const auto s = run_cli(fmt::format("run {} --quiet --out {} --set kind=train --set optimizer.learning_rate={} --set pruning.params.tau_i_train={}",
                                           file, alone.string(), row[2], row[3]));
        REQUIRE_MESSAGE(s.exit_code == 0, s.output);
        const nlohmann::json a = read_json(alone / "results.json");
        const nlohmann::json p = read_json(out / engine::sweep_point_folder(k) / "results.json");
        CHECK(p["accuracy"]["validation"].get<double>() == a["accuracy"]["validation"].get<double>());
        CHECK(p["accuracy"]["validation_loss"].get<double>() == a["accuracy"]["validation_loss"].get<double>());
        CHECK(std::stod(row[csv.column("validation_loss_nats")]) == a["accuracy"]["validation_loss"].get<double>());
    }
}
