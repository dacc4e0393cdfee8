// Strict YAML configuration: every kind of bad input gets one exact, located message.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "config/node.hpp"
#include "config/schema_validation.hpp"
#include "experiment/experiment.hpp"
#include "hardware/accelerator.hpp"
#include "test_support.hpp"

using namespace transcode;
using transcode::test::TempDir;

namespace {


// Loads an experiment written to a temp file; returns the ConfigError text ("" when valid).
// Every "F" in `expected`-style comparisons stands for the temp file's path.
std::string load_errors(const TempDir& dir, const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    const auto file = dir.write("exp.yaml", yaml);
    try {
        engine::load_experiment(file, overrides, test::builtin_plugins());
        return "";
    } catch (const ConfigError& e) {
        return e.what();
    }
}

std::string F(const TempDir& dir) { return (dir.path() / "exp.yaml").string(); }

const char* minimal = "experiment: t\nkind: sparsity_probe\n";

}  // namespace

TEST_CASE("a minimal experiment is valid and takes every default") {
    TempDir dir;
    const auto file = dir.write("exp.yaml", minimal);
    const auto ex = engine::load_experiment(file, {}, test::builtin_plugins());
    CHECK(ex.name == "t");
    CHECK(ex.seed == 0);
    CHECK(ex.mode == RunMode::training);
    CHECK(ex.pruning.info->name == "pruning.dynaprop");
    CHECK(ex.probe.rows == 256);
    CHECK(ex.pruning.params.get_float("tau_t") == doctest::Approx(1e-4));
}

TEST_CASE("unknown key: error with a did-you-mean suggestion") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "sede: 3\n") ==
          F(dir) + ":3:1: error: sede: unknown key 'sede'; did you mean 'seed'? (unknown-key)");
}

TEST_CASE("unknown key with no close name lists the allowed keys") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "probe:\n  zzzzzz: 1\n") ==
          F(dir) + ":4:3: error: probe.zzzzzz: unknown key 'zzzzzz'; allowed keys: rows, cols, activation_std, gradient_std (unknown-key)");
}

TEST_CASE("wrong type") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "seed: abc\n") == F(dir) + ":3:7: error: seed: expected an int, got 'abc' (type)");
    CHECK(load_errors(dir, std::string(minimal) + "seed: 1.5\n") == F(dir) + ":3:7: error: seed: expected an int, got '1.5' (type)");
    CHECK(load_errors(dir, std::string(minimal) + "probe: [1, 2]\n") == F(dir) + ":3:8: error: probe: expected a map, got a list (type)");
    CHECK(load_errors(dir, std::string(minimal) + "pruning:\n  params:\n    tau_t: \"0.1\"\n") ==
          F(dir) + ":5:12: error: pruning.params.tau_t: expected a float, got '0.1' (type)");
}

TEST_CASE("out of range, including plugin parameters and non-finite numbers") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "probe:\n  rows: 0\n") ==
          F(dir) + ":4:9: error: probe.rows: value 0 must be greater than 0 (range)");
    CHECK(load_errors(dir, std::string(minimal) + "seed: -1\n") == F(dir) + ":3:7: error: seed: value -1 is below the minimum 0 (range)");
    CHECK(load_errors(dir, std::string(minimal) + "pruning:\n  params:\n    tau_t: -0.5\n") ==
          F(dir) + ":5:12: error: pruning.params.tau_t: value -0.5 is below the minimum 0 (range)");
    CHECK(load_errors(dir, std::string(minimal) + "pruning:\n  params:\n    tau_t: .nan\n") ==
          F(dir) + ":5:12: error: pruning.params.tau_t: value .nan is not a finite number (range)");
    CHECK(load_errors(dir, std::string(minimal) + "seed: 99999999999999999999\n") ==
          F(dir) + ":3:7: error: seed: value 99999999999999999999 does not fit in a 64-bit int (range)");
}

TEST_CASE("enum value outside its choices") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "mode: trainig\n") ==
          F(dir) + ":3:7: error: mode: 'trainig' is not one of: training, inference; did you mean 'training'? (choice)");
}

TEST_CASE("missing required key") {
    TempDir dir;
    CHECK(load_errors(dir, "experiment: t\n") == F(dir) + ":1:1: error: kind: required key 'kind' is missing (required)");
}

TEST_CASE("malformed YAML") {
    TempDir dir;
    CHECK(load_errors(dir, "experiment: t\nkind: [sparsity_probe\n") ==
          F(dir) + ":3:1: error: (document): malformed YAML: end of sequence flow not found (syntax)");
}

TEST_CASE("duplicate keys are errors, not silently merged") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "seed: 1\nseed: 2\n") == F(dir) + ":4:1: error: seed: duplicate key 'seed' (duplicate-key)");
}

TEST_CASE("unknown plugin names the kind and suggests a close name") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "pruning:\n  plugin: dynaprp\n") ==
          F(dir) + ":4:11: error: pruning.plugin: unknown pruning plugin 'dynaprp'; did you mean 'dynaprop'? (unknown-plugin)");
}

TEST_CASE("more than 50 errors: the first 50 in file order, then one line with the count") {
    TempDir dir;
    std::string yaml = std::string(minimal) + "probe:\n";
    for (int i = 0; i < 60; ++i) yaml += fmt::format("  q{}: 1\n", i);
    const std::string errors = load_errors(dir, yaml);
    std::vector<std::string> lines;
    for (std::size_t start = 0; start <= errors.size();) {
        const std::size_t end = std::min(errors.find('\n', start), errors.size());
        lines.push_back(errors.substr(start, end - start));
        start = end + 1;
    }
    REQUIRE(lines.size() == 51);
    CHECK(lines[0] == F(dir) + ":4:3: error: probe.q0: unknown key 'q0'; allowed keys: rows, cols, activation_std, gradient_std (unknown-key)");
    CHECK(lines[49].rfind(F(dir) + ":53:3: error: probe.q49: ", 0) == 0);
    CHECK(lines[50] == "... and 10 more error(s), not shown: fix the 50 above first (at most 50 are listed, like a compiler's error limit)");
    CHECK(config::parse_diagnostics(errors).size() == 50);
}

TEST_CASE("all errors of a file are reported together, in file order") {
    TempDir dir;
    const std::string errors = load_errors(dir, "experiment: t\nkind: sparsity_probe\nseed: x\nprobe:\n  rows: -3\n  colz: 4\n");
    CHECK(errors == F(dir) + ":3:7: error: seed: expected an int, got 'x' (type)\n" +
                        F(dir) + ":5:9: error: probe.rows: value -3 must be greater than 0 (range)\n" +
                        F(dir) + ":6:3: error: probe.colz: unknown key 'colz'; did you mean 'cols'? (unknown-key)");
}

TEST_CASE("includes: relative paths, local overrides, and errors located in the included file") {
    TempDir dir;
    dir.write("parts/probe.yaml", "rows: 8\ncols: 16\n");
    const auto file = dir.write("exp.yaml", std::string(minimal) + "probe:\n  include: parts/probe.yaml\n  cols: 32\n");
    const auto ex = engine::load_experiment(file, {}, test::builtin_plugins());
    CHECK(ex.probe.rows == 8);
    CHECK(ex.probe.cols == 32);

    dir.write("parts/bad.yaml", "rows: 8\nrowz: 1\n");
    CHECK(load_errors(dir, std::string(minimal) + "probe:\n  include: parts/bad.yaml\n") ==
          (dir.path() / "parts/bad.yaml").string() + ":2:1: error: probe.rowz: unknown key 'rowz'; did you mean 'rows'? (unknown-key)");
}

TEST_CASE("includes: merged keys keep the included order, new local keys follow, and an overridden key is located in the local file") {
    TempDir dir;
    dir.write("base.yaml", "a: 1\nb: {x: 1, y: 2}\nc: 3\n");
    config::Diagnostics diags;
    const config::Node n = config::load_string("top:\n  include: base.yaml\n  d: 4\n  c: 30\n  b: {y: 20, z: 30}\n", "top.yaml", diags, dir.path());
    REQUIRE(diags.empty());
    const config::Node* top = n.find("top");
    REQUIRE(top != nullptr);
    std::vector<std::string> keys, lines;
    for (std::size_t i = 0; i < top->fields.size(); ++i) {
        keys.push_back(top->fields[i].first);
        lines.push_back(fmt::format("{}:{}", top->key_locations[i].file, top->key_locations[i].line));
    }
    CHECK(keys == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK(lines == std::vector<std::string>{(dir.path() / "base.yaml").string() + ":1", (dir.path() / "base.yaml").string() + ":2", "top.yaml:4", "top.yaml:3"});
    CHECK(top->find("c")->scalar == "30");
    const config::Node* b = top->find("b");
    REQUIRE(b != nullptr);
    CHECK(b->fields.size() == 3);
    CHECK(b->find("x")->scalar == "1");
    CHECK(b->find("y")->scalar == "20");
    CHECK(b->find("z")->scalar == "30");
}

TEST_CASE("a missing included file") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "probe:\n  include: nowhere.yaml\n") ==
          F(dir) + ":4:12: error: probe.include: included file 'nowhere.yaml' not found (looked for " + (dir.path() / "nowhere.yaml").string() +
              ") (include)");
}

TEST_CASE("an include cycle is an error, not a hang") {
    TempDir dir;
    dir.write("a.yaml", "include: b.yaml\nrows: 1\n");
    dir.write("b.yaml", "include: a.yaml\n");
    CHECK(load_errors(dir, std::string(minimal) + "probe:\n  include: a.yaml\n") ==
          (dir.path() / "b.yaml").string() + ":1:10: error: include: include cycle: 'a.yaml' includes itself (include)");
}

TEST_CASE("a missing experiment file") {
    TempDir dir;
    const auto missing = dir.path() / "missing.yaml";
    CHECK_THROWS_WITH_AS(engine::load_experiment(missing, {}, test::builtin_plugins()), (missing.string() + ":1:1: error: (document): cannot open file (file)").c_str(),
                         ConfigError);
}

TEST_CASE("--set overrides any field, a bad override is reported the same way") {
    TempDir dir;
    const auto file = dir.write("exp.yaml", minimal);
    const auto ex = engine::load_experiment(file, {"seed=7", "probe.rows=4", "pruning.params.tau_t=0.5"}, test::builtin_plugins());
    CHECK(ex.seed == 7);
    CHECK(ex.probe.rows == 4);
    CHECK(ex.pruning.params.get_float("tau_t") == doctest::Approx(0.5));

    CHECK(load_errors(dir, minimal, {"probe.rows=-5"}) == "--set:1:12: error: probe.rows: value -5 must be greater than 0 (range)");
    CHECK(load_errors(dir, minimal, {"sed=1"}) == "--set:1:1: error: sed: unknown key 'sed'; did you mean 'seed'? (unknown-key)");
    CHECK(load_errors(dir, minimal, {"seed"}) == "--set:1:1: error: (document): 'seed' is not of the form PATH=VALUE (override)");
    CHECK(load_errors(dir, minimal, {"probe..rows=1"}) == "--set:1:7: error: probe..rows: 'probe..rows=1' has an empty path segment (override)");
    CHECK(load_errors(dir, std::string(minimal) + "seed: 1\n", {"seed.x=1"}) ==
          "--set:1:6: error: seed: cannot set 'seed.x': 'seed' is a scalar, not a map (override)");
    CHECK(load_errors(dir, minimal, {"seed.x=1"}) == "--set:1:1: error: seed: expected an int, got a map (type)");
    CHECK(load_errors(dir, minimal, {"seed=[1"}) == "--set:1:6: error: seed: malformed YAML value: end of sequence flow not found (override)");
}

namespace {

// The tree `yaml` becomes after the overrides (which must all apply).
config::Node overridden(const std::string& yaml, const std::vector<std::string>& overrides) {
    config::Diagnostics diags;
    config::Node root = config::load_string(yaml, "t.yaml", diags);
    for (const auto& o : overrides) config::apply_override(root, o, diags);
    REQUIRE_MESSAGE(diags.empty(), diags.format());
    return root;
}

const char* units_yaml =
    "units:\n"
    "  - {name: mac_lane, count: 16, params: {macs: 16}}\n"
    "  - {name: softmax, count: 4}\n"
    "  - {name: buffer, params: {class: weight, size_mb: 8}}\n"
    "plain: [1, 2, 3]\n";

}  // namespace

TEST_CASE("--set reaches list items by index and by name, and a list of named items merges by name") {
    const auto scalar = [](const config::Node& root, const char* path) {
        const config::Node* n = config::find_path(root, path);
        REQUIRE_MESSAGE(n != nullptr, path);
        return n->scalar;
    };
    config::Node r = overridden(units_yaml, {"units[mac_lane].count=32", "units[1].count=8", "plain[2]=30", "plain.0=10",
                                             "units[mac_lane].params.macs=8"});
    CHECK(scalar(r, "units[0].count") == "32");
    CHECK(scalar(r, "units[softmax].count") == "8");
    CHECK(scalar(r, "units[0].params.macs") == "8");
    CHECK(scalar(r, "plain[2]") == "30");
    CHECK(scalar(r, "plain[0]") == "10");
    CHECK(scalar(r, "plain[1]") == "2");

    // A list of named items merges by name: softmax's count changes and mac_lane keeps every field;
    // a new name is appended.
    r = overridden(units_yaml, {"units=[{name: softmax, count: 2}, {name: layer_norm, count: 1}]"});
    REQUIRE(config::find_path(r, "units")->items.size() == 4);
    CHECK(scalar(r, "units[0].name") == "mac_lane");
    CHECK(scalar(r, "units[mac_lane].count") == "16");
    CHECK(scalar(r, "units[mac_lane].params.macs") == "16");
    CHECK(scalar(r, "units[softmax].count") == "2");
    CHECK(scalar(r, "units[3].name") == "layer_norm");
    // Within a named item, maps merge too: params keeps its other fields.
    r = overridden(units_yaml, {"units=[{name: buffer, params: {size_mb: 16}}]"});
    CHECK(scalar(r, "units[buffer].params.size_mb") == "16");
    CHECK(scalar(r, "units[buffer].params.class") == "weight");
    // A list without names still replaces.
    r = overridden(units_yaml, {"plain=[7]"});
    CHECK(config::find_path(r, "plain")->items.size() == 1);
}

TEST_CASE("--set list selectors: a missing item, a non-list and malformed brackets are located errors") {
    const auto error_of = [](const std::string& o) {
        config::Diagnostics diags;
        config::Node root = config::load_string(units_yaml, "t.yaml", diags);
        config::apply_override(root, o, diags);
        REQUIRE(diags.items().size() == 1);
        const auto& d = diags.items().front();
        return fmt::format("{}:{}: {}: {} ({})", d.where.file, d.where.column, d.path, d.message, d.rule);
    };
    CHECK(error_of("units[dma].count=1") == "--set:6: units: 'units' has no item named 'dma'; its items: mac_lane, softmax, buffer (override)");
    CHECK(error_of("units[5].count=1") == "--set:6: units: 'units' has 3 item(s); there is no item 5 (indices start at 0) (override)");
    CHECK(error_of("plain[x]=1") == "--set:6: plain: 'plain' has no item named 'x': its items have no names; select one by index (override)");
    CHECK(error_of("units[0][1]=1") == "--set:9: units[0]: cannot select '[1]' in 'units[0][1]': 'units[0]' is a map, not a list (override)");
    CHECK(error_of("units[0=1") == "--set:6: units[0: 'units[0=1' has a '[' without its ']' (override)");
    CHECK(error_of("units[].count=1") == "--set:6: units[].count: 'units[].count=1' has an empty []: give an item's index or name (override)");
    CHECK(error_of("units[0]count=1") == "--set:9: units[0]count: 'units[0]count=1': expected '.' or '[' after ']' (override)");
}

TEST_CASE("--set X.plugin=OTHER drops the params the file gave the old plugin, and later --set params apply to the new one") {
    const std::filesystem::path file = std::filesystem::path(TRANSCODE_SOURCE_DIR) / "configs/experiments/dynaprop-probe.yaml";
    const engine::Experiment swapped = engine::load_experiment(file, {"pruning.plugin=topk"}, test::builtin_plugins());
    CHECK(swapped.pruning.info->name == "pruning.topk");
    const engine::Experiment tuned =
        engine::load_experiment(file, {"pruning.plugin=topk", "pruning.params.keep_fraction=0.25"}, test::builtin_plugins());
    CHECK(tuned.pruning.params.get_float("keep_fraction") == doctest::Approx(0.25));
    // The same plugin again keeps the file's params.
    const engine::Experiment same = engine::load_experiment(file, {"pruning.plugin=dynaprop"}, test::builtin_plugins());
    CHECK(same.pruning.info->name == "pruning.dynaprop");
    const engine::Experiment plain = engine::load_experiment(file, {}, test::builtin_plugins());
    CHECK(same.pruning.params.get_float("tau_t") == plain.pruning.params.get_float("tau_t"));
    // Params set before the swap belong to the old plugin's block and go with it.
    CHECK_THROWS_WITH_AS(engine::load_experiment(file, {"pruning.params.keep_fraction=0.25", "pruning.plugin=topk", "pruning.params.kk=1"},
                                                 test::builtin_plugins()),
                         "--set:1:16: error: pruning.params.kk: unknown key 'kk'; did you mean 'k'? (unknown-key)", ConfigError);
}

TEST_CASE("--set on a real accelerator: a PE unit's count by name") {
    const std::filesystem::path file = std::filesystem::path(TRANSCODE_SOURCE_DIR) / "configs/accelerators/acceltran-edge.yaml";
    const auto count_of = [](const engine::Accelerator& a, const std::string& name) {
        for (const auto& u : a.units)
            if (u.name == name) return u.count;
        return std::int64_t{-1};
    };
    const engine::Accelerator base = engine::load_accelerator_file(file, {}, test::builtin_plugins());
    const engine::Accelerator more = engine::load_accelerator_file(file, {"processing_elements.units[mac_lane].count=32"}, test::builtin_plugins());
    CHECK(count_of(base, "mac_lane") == 64 * 16);
    CHECK(count_of(more, "mac_lane") == 64 * 32);
    CHECK(more.area_mm2() > base.area_mm2());
    CHECK_THROWS_WITH_AS(engine::load_accelerator_file(file, {"processing_elements.units[mac-lane].count=32"}, test::builtin_plugins()),
                         "--set:1:26: error: processing_elements.units: 'processing_elements.units' has no item named 'mac-lane'; its items: "
                         "mac_lane, softmax, layer_norm, pre_sparsity, post_sparsity, fifo, stochastic_rounding, dataflow_controller, dma (override)",
                         ConfigError);
}

TEST_CASE("parse_params applies defaults and rejects unknown keys") {
    const ParamSchema schema{
        ParamSpec::integer("k", "keep").min(1).default_value(4),
        ParamSpec::list("names", "some names", ParamSpec::string("", "a name")).min(1).default_value(ValueList{Value{"a"}}),
    };
    const Params p = config::parse_params(schema, "");
    CHECK(p.get_int("k") == 4);
    CHECK(p.get_list("names").size() == 1);
    CHECK_THROWS_WITH_AS(config::parse_params(schema, "k: 0"), "<params>:1:4: error: k: value 0 is below the minimum 1 (range)", ConfigError);
    CHECK_THROWS_WITH_AS(config::parse_params(schema, "names: []"), "<params>:1:8: error: names: list length 0 is below the minimum 1 (range)",
                         ConfigError);
    CHECK_THROWS_WITH_AS(config::parse_params(schema, "kk: 2"), "<params>:1:1: error: kk: unknown key 'kk'; did you mean 'k'? (unknown-key)",
                         ConfigError);
}

TEST_CASE("closest_match only suggests likely typos") {
    CHECK(config::closest_match("sede", {"seed", "mode"}) == "seed");
    CHECK(config::closest_match("tau_tt", {"tau_t", "tau_i_train"}) == "tau_t");
    CHECK(config::closest_match("xyz", {"seed", "mode"}).empty());
}

TEST_CASE("structural mistakes: non-map documents, complex keys, directories, values above a maximum") {
    TempDir dir;
    CHECK(load_errors(dir, "- a\n- b\n") == F(dir) + ":1:1: error: (document): an experiment must be a map, got list (type)");
    CHECK(load_errors(dir, std::string(minimal) + "[a, b]: 1\n") == F(dir) + ":3:1: error: (document): map keys must be plain names (syntax)");
    CHECK(load_errors(dir, std::string(minimal) + "probe:\n  rows: 2000000\n") ==
          F(dir) + ":4:9: error: probe.rows: value 2000000 is above the maximum 1048576 (range)");
    CHECK_THROWS_WITH_AS(engine::load_experiment(dir.path(), {}, test::builtin_plugins()),
                         (dir.path().string() + ":1:1: error: (document): is a directory, not a YAML file (file)").c_str(), ConfigError);
}

TEST_CASE("include mistakes: not a path, not a map") {
    TempDir dir;
    CHECK(load_errors(dir, std::string(minimal) + "probe:\n  include: [a.yaml]\n") ==
          F(dir) + ":4:12: error: probe.include: expected a relative file path, got a list (include)");
    dir.write("list.yaml", "- 1\n- 2\n");
    CHECK(load_errors(dir, std::string(minimal) + "probe:\n  include: list.yaml\n") ==
          F(dir) + ":4:12: error: probe.include: included file 'list.yaml' must hold a map, not a list (include)");
}
