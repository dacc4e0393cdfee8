// The pieces the CLI and the Python module share (experiment/experiment_runner.hpp,
// config::parse_diagnostics, codesign::read_evaluations): each gives what the CLI gave before it was
// factored out.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "codesign/result_store.hpp"
#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "experiment/experiment_runner.hpp"
#include "test_support.hpp"

using namespace transcode;
using transcode::test::TempDir;

namespace {
const std::string source_dir = TRANSCODE_SOURCE_DIR;
}

TEST_CASE("parse_diagnostics reads back every formatted diagnostic, a file path with colons included") {
    config::Diagnostics diags;
    diags.add({"/tmp/a:b/exp.yaml", 4, 1}, "sede", "unknown key 'sede'; did you mean 'seed'?", "unknown-key");
    diags.add({"--set", 1, 12}, "", "expected PATH=VALUE (a: b)", "syntax");
    const std::string text = "preamble without a location\n" + diags.format();
    const std::vector<config::Diagnostic> back = config::parse_diagnostics(text);
    REQUIRE(back.size() == 2);
    CHECK(back[0].where.file == "/tmp/a:b/exp.yaml");
    CHECK(back[0].where.line == 4);
    CHECK(back[0].where.column == 1);
    CHECK(back[0].path == "sede");
    CHECK(back[0].message == "unknown key 'sede'; did you mean 'seed'?");
    CHECK(back[0].rule == "unknown-key");
    CHECK(back[1].where.file == "--set");
    CHECK(back[1].where.column == 12);
    CHECK(back[1].path == "");  // "(document)" in the text
    CHECK(back[1].message == "expected PATH=VALUE (a: b)");
    CHECK(back[1].format() == diags.items()[1].format());
    CHECK(config::parse_diagnostics("error: no plugin named 'x'").empty());
}

TEST_CASE("validate_document says what a document is, as transcode validate prints it") {
    auto& host = test::builtin_plugins();
    CHECK(engine::validate_file(source_dir + "/configs/experiments/quickstart.yaml", {}, host) == "ok (experiment 'quickstart', kind simulate)");
    // A document parsed from text (the Python module's dicts), with an override.
    config::Diagnostics diags;
    config::Node root = config::load_string(R"({"name": "tiny", "family": "flexibert", "params": {"preset": "bert-tiny"}})", "<dict>", diags);
    CHECK(engine::validate_document(std::move(root), std::move(diags), "<dict>", {"name=renamed"}, host).starts_with("ok (model 'renamed', family models.flexibert, "));
    config::Diagnostics none;
    config::Node unknown = config::load_string("{colour: red}", "<dict>", none);
    try {
        engine::validate_document(std::move(unknown), std::move(none), "<dict>", {}, host);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) ==
              "<dict>:1:1: error: (document): cannot tell what this file is: an experiment has an `experiment:` key, a model a `family:` key, an "
              "accelerator `processing_elements:` or `units:`, a design space `target:` and `knobs:` (kind)");
    }
}

TEST_CASE("load_simulate_experiment takes included files or inline maps, and reports a bad mode located in the generated experiment") {
    auto& host = test::builtin_plugins();
    engine::SimulateRequest request;
    request.name = "simulate-inline";
    request.model = R"({"name": "tiny", "family": "flexibert", "params": {"preset": "bert-tiny"}})";
    request.accelerator = engine::include_section(source_dir + "/configs/accelerators/acceltran-edge.yaml");
    request.fidelity = "analytic";
    const engine::Experiment ex = engine::load_simulate_experiment(request, host);
    CHECK(ex.name == "simulate-inline");
    CHECK(ex.kind == "simulate");
    CHECK(ex.mode == RunMode::inference);
    CHECK(ex.simulation.fidelity == engine::Fidelity::analytic);
    REQUIRE(ex.model);
    CHECK(ex.model->name == "tiny");
    REQUIRE(ex.accelerator);
    CHECK(ex.accelerator->name == "acceltran-edge");
    request.mode = "train";
    try {
        engine::load_simulate_experiment(request, host);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == "<simulate>:3:7: error: mode: 'train' is not one of: training, inference (choice)");
    }
}

TEST_CASE("read_evaluations refuses a missing file and a database that is no search database") {
    const TempDir dir;
    const auto missing = dir.path() / "search.db";
    try {
        engine::read_evaluations(missing);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == fmt::format("{}: no search database here (a codesign run writes search.db in its output folder)", missing.string()));
    }
    const auto other = dir.write("other.db", "");
    try {
        engine::read_evaluations(other);
        FAIL("expected a ConfigError");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == fmt::format("{}: not a search database (no such table: evaluations)", other.string()));
    }
}
