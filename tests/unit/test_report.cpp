// `transcode report`: the HTML page of a results folder, and its refusals of folders that are not
// results folders. The page itself is opened in headless Chromium by ctest `report-chromium`
// (tests/report/check_report.py).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/html_report.hpp"
#include "report/results_folder.hpp"
#include "report/vega_bundle.hpp"
#include "test_support.hpp"
#include "transcode/errors.hpp"

using transcode::test::read_file;
using transcode::test::run_cli;
using transcode::test::TempDir;
namespace fs = std::filesystem;

namespace {
const std::string source_dir = TRANSCODE_SOURCE_DIR;
}  // namespace

TEST_CASE("report writes one self-contained page per results folder, with the Vega bundles inlined and a unit on every axis") {
    TempDir dir;
    const fs::path out = dir.path() / "sim";
    REQUIRE(run_cli("simulate --model " + source_dir + "/configs/models/bert-tiny.yaml --accelerator " + source_dir +
                    "/configs/accelerators/acceltran-edge.yaml --mode training --fidelity analytic --quiet --out " + out.string())
                .exit_code == 0);
    const auto r = run_cli("report " + out.string());
    CHECK(r.exit_code == 0);
    CHECK(r.output == "wrote " + (out / "report.html").string() + " (11 charts, kind simulate)\n");
    const std::string html = read_file(out / "report.html");
    // Offline: the three bundles are in the page, and nothing is loaded from elsewhere.
    for (const std::string_view bundle :
         {transcode::engine::embedded::vega(), transcode::engine::embedded::vega_lite(), transcode::engine::embedded::vega_embed()}) {
        CHECK(bundle.size() > 50000);
        CHECK(html.find(bundle) != std::string::npos);
    }
    CHECK(html.find("<script src") == std::string::npos);
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("<body data-charts-expected=\"11\">") != std::string::npos);
    CHECK(html.find("<h1>transcode report: simulate-bert-tiny-acceltran-edge</h1>") != std::string::npos);
    CHECK(html.find("<tr><td>engine version</td><td>0.1.0</td></tr>") != std::string::npos);

    // The charts: per chart a quantitative axis or two, each titled with its unit in parentheses.
    const auto folder = transcode::engine::read_results_folder(out);
    const auto charts = transcode::engine::report_charts(folder);
    REQUIRE(charts.size() == 11);
    const std::regex unit(R"(.*\([^)]+\)$)");
    for (const auto& c : charts) {
        CAPTURE(c.title);
        int quantitative = 0;
        for (const char* channel : {"x", "y"}) {
            const auto& e = c.spec["encoding"][channel];
            if (e.value("type", "") != "quantitative") continue;
            ++quantitative;
            CHECK(std::regex_match(e["title"].get<std::string>(), unit));
        }
        CHECK(quantitative >= 1);
    }
    // The phase timeline spans the run: the update phase ends at the step's last cycle.
    const auto timeline = std::find_if(charts.begin(), charts.end(), [](const auto& c) { return c.title.rfind("Phase timeline", 0) == 0; });
    REQUIRE(timeline != charts.end());
    double latest_ms = 0;
    for (const auto& row : timeline->spec["data"]["values"]) latest_ms = std::max(latest_ms, row["end_ms"].get<double>());
    const auto results = nlohmann::json::parse(read_file(out / "results.json"));
    CHECK(latest_ms == doctest::Approx(results["latency"]["seconds"].get<double>() * 1e3));

    // -o writes elsewhere.
    const auto other = run_cli("report " + out.string() + " -o " + (dir.path() / "page.html").string());
    CHECK(other.exit_code == 0);
    CHECK(read_file(dir.path() / "page.html") == html);
}

TEST_CASE("report on a folder that is not a results folder exits 2 and names it") {
    TempDir dir;
    const std::string missing = (dir.path() / "nope").string();
    auto r = run_cli("report " + missing);
    CHECK(r.exit_code == 2);
    CHECK(r.output == missing + ": error: no such folder; give the output folder of a run (out/NAME) (report)\n");

    const std::string file = dir.write("results.json", "{}").string();
    r = run_cli("report " + file);
    CHECK(r.exit_code == 2);
    CHECK(r.output == file + ": error: not a folder; give the output folder of a run (out/NAME), not a file in it (report)\n");

    fs::create_directories(dir.path() / "empty");
    r = run_cli("report " + (dir.path() / "empty").string());
    CHECK(r.exit_code == 2);
    CHECK(
        r.output ==
        (dir.path() / "empty" / "results.json").string() +
            ": error: not found: this is not the output folder of a finished run (a run writes results.json last, so a run that failed or "
            "is still running has none) (report)\n");
    CHECK_FALSE(fs::exists(dir.path() / "empty" / "report.html"));
}

TEST_CASE("report on a partial or invalid results.json exits 2 with the file, line and column of each problem") {
    TempDir dir;
    auto report = [&](const std::string& name, const std::string& text) {
        const fs::path file = dir.write(name + "/results.json", text);
        const auto r = run_cli("report " + (dir.path() / name).string());
        CHECK(r.exit_code == 2);
        CHECK_FALSE(fs::exists(dir.path() / name / "report.html"));
        return std::make_pair(file.string(), r.output);
    };
    // Cut off mid-write, and empty.
    auto [truncated, t] = report("truncated", R"({"experiment": {"name": "x", )");
    CHECK(t == truncated +
                   ":1:30: error: (document): not valid JSON: syntax error while parsing object key - unexpected end of input; expected "
                   "string literal (syntax)\n");
    auto [empty, e] = report("empty", "");
    CHECK(e == empty +
                   ":1:1: error: (document): not valid JSON: syntax error while parsing value - unexpected end of input; expected '[', "
                   "'{', or a literal (syntax)\n");
    // Valid JSON, but not a results document.
    auto [array, a] = report("array", "[1, 2]\n");
    CHECK(a == array + ":1:1: error: (document): expected an object, got an array (type)\n");
    auto [kind, k] = report(
        "kind",
        "{\n  \"engine_version\": \"0.1.0\",\n  \"experiment\": {\"kind\": \"model_report\", \"name\": \"m\"},\n  \"status\": \"ok\"\n}\n");
    CHECK(
        k ==
        kind +
            ":3:26: error: experiment.kind: a run of kind 'model_report' has no report; transcode report draws the kinds simulate, train, "
            "train_and_simulate, dynaprop_sweep, codesign (kind)\n");
    // Every problem at once, in file order: wrong types where they are, missing sections at the top.
    auto [wrong, w] = report("wrong",
                             "{\n  \"engine_version\": \"0.1.0\",\n  \"experiment\": {\"kind\": \"simulate\", \"name\": 7},\n  "
                             "\"latency\": {\"seconds\": \"fast\"},\n"
                             "  \"status\": \"ok\"\n}\n");
    std::string expected;
    for (const char* key : {"energy", "phases", "memory", "accelerator", "critical_path", "utilisation"})
        expected +=
            wrong + ":1:1: error: " + key + ": required key '" + key + "' is missing (a run of kind simulate writes it) (required)\n";
    expected += wrong + ":3:46: error: experiment.name: expected a string, got a number (type)\n";
    expected += wrong + ":4:26: error: latency.seconds: expected a number, got a string (type)\n";
    CHECK(w == expected);
    // A co-design result whose Pareto set lost a field, located at that design.
    auto [pareto, p] =
        report("pareto",
               "{\"engine_version\": \"0.1.0\", \"status\": \"ok\", \"experiment\": {\"kind\": \"codesign\", \"name\": \"c\"},\n"
               " \"codesign\": {\"best\": {\"status\": \"infeasible\"}, \"pareto\": {\"set\": [\n"
               "   {\"design\": \"a\", \"accuracy\": 0.8, \"latency_s\": 1, \"energy_j\": 1, \"area_mm2\": 1},\n"
               "   {\"design\": \"b\", \"accuracy\": 0.8, \"latency_s\": 1, \"energy_j\": 1}]}}}\n");
    CHECK(p == pareto + ":4:4: error: codesign.pareto.set[1].area_mm2: required key 'area_mm2' is missing (required)\n");
}

TEST_CASE("report refuses a malformed CSV beside results.json, naming the file and row") {
    TempDir dir;
    const fs::path out = dir.path() / "run";
    REQUIRE(run_cli("run " + source_dir + "/configs/experiments/quickstart.yaml --set simulation.fidelity=analytic --quiet --out " +
                    out.string())
                .exit_code == 0);
    const std::string ops = read_file(out / "ops.csv");
    dir.write("run/ops.csv", ops + "1,2,3\n");
    const std::size_t rows = static_cast<std::size_t>(std::count(ops.begin(), ops.end(), '\n')) + 1;
    auto r = run_cli("report " + out.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == fmt::format("{}:{}:1: error: row {}: 3 cells, the header has 22 (csv)\n", (out / "ops.csv").string(), rows, rows));
    dir.write("run/ops.csv", "index,name\n0,a\n");
    r = run_cli("report " + out.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == (out / "ops.csv").string() + ":1:1: error: header: no column 'phase'; the report reads phase, unit, cycles (csv)\n");
}

TEST_CASE("locate_json finds the value at a JSON pointer, and parse_csv reads quoted cells") {
    const std::string text = "{\"a\": {\"b\": [10, {\"c\": \"x\\\"y\"}, 30]},\n \"d\": 4}";
    CHECK(transcode::engine::locate_json(text, "/a/b/1/c") == text.find("\"x"));
    CHECK(transcode::engine::locate_json(text, "/a/b/2") == text.find("30"));
    CHECK(transcode::engine::locate_json(text, "/d") == text.find('4'));
    CHECK(transcode::engine::locate_json(text, "/a/missing") == text.find("{\"b\""));
    CHECK(transcode::engine::line_column(text, text.find('4')) == std::pair{2, 7});
    const auto t = transcode::engine::parse_csv("round,design\n1,\"layers=2, hidden=\"\"64\"\"\"\r\n", "f.csv");
    REQUIRE(t.rows.size() == 1);
    CHECK(t.rows[0][1] == "layers=2, hidden=\"64\"");
    CHECK(t.column("design") == 1);
    CHECK_THROWS_WITH_AS(transcode::engine::parse_csv("a,b\n1,\"2\n", "f.csv"),
                         "f.csv:2:1: error: row 2: a quoted cell is not closed (csv)", transcode::ConfigError);
}
