// Co-design (kind codesign): design-space files, the objective, the evaluator, and the CLI runs
// (threads, crash and resume, the SQLite database, config errors).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/csv_table.hpp"
#include "codesign/codesign_run.hpp"
#include "codesign/evaluator.hpp"
#include "codesign/objective.hpp"
#include "codesign/result_store.hpp"
#include "config/schema_validation.hpp"
#include "experiment/experiment.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace transcode;
using transcode::test::run_cli;
using transcode::test::TempDir;
using transcode::engine::PluginHost;
using transcode::engine::PluginInfo;

namespace {

const std::string source_dir = TRANSCODE_SOURCE_DIR;
const std::string fixtures = std::string(TRANSCODE_TEST_FIXTURES) + "/codesign";

engine::SpaceSide load_side(const std::string& file, engine::SpaceSide::Target target, config::Diagnostics& diags) {
    const config::Node node = config::load_file(file, diags);
    return engine::load_space_side(node, "", target, test::builtin_plugins(), diags);
}

// Every distinct candidate of a space, by walking the mixed-radix grid and keeping canonical points.
std::vector<Candidate> all_candidates(const DesignSpace& space) {
    std::vector<Candidate> out;
    Candidate c(space.size(), 0);
    for (;;) {
        if (space.is_canonical(c)) out.push_back(c);
        std::size_t k = space.size();
        while (k > 0) {
            --k;
            if (++c[k] < space.knobs()[k].values.size()) break;
            c[k] = 0;
            if (k == 0) return out;
        }
        if (space.size() == 0) return out;
    }
}

std::string sqlite_rows(const fs::path& db) {
    // The columns that must not depend on timing or threads.
    const auto r = test::run_shell("sqlite3 '" + db.string() +
                           "' 'select round, slot, candidate, status, reason, cached, accuracy, latency_s, energy_j, area_mm2, score from evaluations order by round, slot'");
    return r.output;
}

nlohmann::json codesign_section(const fs::path& results) {
    nlohmann::json j = nlohmann::json::parse(test::read_file(results))["codesign"];
    for (const char* timing : {"evaluation_seconds", "wall_seconds", "threads", "resumed_from_database"}) j["evaluations"].erase(timing);
    j.erase("throughput");  // rates and rank counts: timing
    return j;
}

}  // namespace

TEST_CASE("objective: weighted score, normalised objectives, Pareto front and hypervolume") {
    engine::ObjectiveSettings o;
    o.latency_s = 2e-3;
    o.energy_j = 1e-2;
    o.area_mm2 = 50;
    const engine::Metrics m{0.9, 1e-3, 2e-2, 25};
    CHECK(engine::weighted_score(o, m) == doctest::Approx(0.5 * 0.9 + 0.2 * 0.5 + 0.2 * -1.0 + 0.1 * 0.5));
    const auto obj = engine::normalised_objectives(o, m);
    CHECK(obj[0] == doctest::Approx(0.1));
    CHECK(obj[1] == doctest::Approx(0.5));
    CHECK(obj[2] == doctest::Approx(2.0));
    CHECK(obj[3] == doctest::Approx(0.5));

    const std::vector<engine::Objectives> pts{{0.5, 0.5, 0.5, 0.5}, {0.6, 0.6, 0.6, 0.6}, {0.2, 0.9, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}, {0.9, 0.1, 0.9, 0.9}};
    CHECK(engine::pareto_front(pts) == std::vector<std::size_t>{0, 2, 4});  // 1 is dominated by 0; 3 repeats 0
    const engine::Objectives ref{1, 1, 1, 1};
    CHECK(engine::hypervolume({{0.5, 0.5, 0.5, 0.5}}, ref) == doctest::Approx(0.0625));
    // Two boxes of 0.0625 overlapping in [0.5,1]x[0.5,1]x[0.5,1]x[0.75,1] (0.03125 / 2).
    CHECK(engine::hypervolume({{0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.75}}, ref) == doctest::Approx(0.0625));
    CHECK(engine::hypervolume({{0.5, 0.5, 0.5, 0.5}, {0.0, 0.5, 0.5, 0.75}}, ref) == doctest::Approx(0.0625 + 0.5 * 0.5 * 0.5 * 0.25));
    // A point not strictly inside the reference box adds nothing.
    CHECK(engine::hypervolume({{0.5, 0.5, 0.5, 0.5}, {0.1, 0.1, 0.1, 1.5}}, ref) == doctest::Approx(0.0625));
    CHECK(engine::hypervolume({}, ref) == 0.0);
}

TEST_CASE("the published design spaces load with their published sizes") {
    config::Diagnostics diags;
    const engine::SpaceSide acc = load_side(source_dir + "/configs/design_spaces/acceltran.yaml", engine::SpaceSide::Target::accelerator, diags);
    REQUIRE(diags.empty());
    CHECK(acc.space.size() == 13);
    // tile b, tile xy, non-linearity, PEs, lanes, MACs, softmax, batch, 3 buffers, 11 memories, 2 modes
    CHECK(acc.space.count() == std::optional<std::uint64_t>(2ULL * 3 * 2 * 5 * 5 * 2 * 6 * 3 * 5 * 5 * 5 * 11 * 2));

    const engine::SpaceSide model = load_side(source_dir + "/configs/design_spaces/flexibert2.yaml", engine::SpaceSide::Target::model, diags);
    REQUIRE(diags.empty());
    // Per layer: 4 hidden sizes x (7^2 + 7^4 + 7^8 + 7^12 head-operation choices) x (6 + 6^2 + 6^3) feed-forward stacks.
    const double per_layer = std::log10(4.0) + std::log10(std::pow(7.0, 2) + std::pow(7.0, 4) + std::pow(7.0, 8) + std::pow(7.0, 12)) + std::log10(6.0 + 36 + 216);
    double sum = 0;  // sum over L in {2, 4, ..., 12} of per_layer^L, in log10
    for (int L = 2; L <= 12; L += 2) sum += std::pow(10.0, L * per_layer - 12 * per_layer);
    CHECK(model.space.log10_count() == doctest::Approx(12 * per_layer + std::log10(sum)).epsilon(1e-12));
    CHECK(model.space.count() == std::nullopt);  // far beyond 2^64
    CHECK(model.space.size() == 1 + 12 * (1 + 1 + 12 + 1 + 3));
}

TEST_CASE("decoding: a candidate becomes exactly the model and accelerator it names") {
    PluginHost& host = test::builtin_plugins();
    const engine::Experiment ex = engine::load_experiment(fixtures + "/small-joint.yaml", {}, host);
    REQUIRE(ex.codesign);
    const auto& cs = *ex.codesign;
    CHECK(cs.joint.size() == 6 + 3);
    CHECK(cs.joint.count() == std::optional<std::uint64_t>(32 * 12));
    // layers 4, hidden 256, heads 4, l-dft, ff 1024; 128 PEs, 16 lanes, 1 MAC per lane.
    const Candidate c{1, 1, 1, 1, 0, 1, 1, 1, 0};
    std::vector<std::pair<std::string, config::Node>> params;
    const config::Node acc = engine::decode_accelerator(cs.accelerator, Candidate(c.begin() + 6, c.end()), params);
    CHECK(config::find_path(acc, "processing_elements.count")->scalar == "128");
    CHECK(config::find_path(acc, "processing_elements.units[0].count")->scalar == "16");
    CHECK(config::find_path(acc, "processing_elements.units[6].count")->scalar == "16");  // stochastic rounding, one per lane
    CHECK(config::find_path(acc, "processing_elements.units[0].params.macs")->scalar == "1");
    const config::Node model = engine::decode_model(cs.model, Candidate(c.begin(), c.begin() + 6), params);
    CHECK(config::to_flow_text(*model.find("params")) ==
          "{layers: 4, hidden: [256, 256, 256, 256], heads: [[l-dft, l-dft, l-dft, l-dft], [l-dft, l-dft, l-dft, l-dft], [l-dft, l-dft, l-dft, l-dft], "
          "[l-dft, l-dft, l-dft, l-dft]], ff: [[1024], [1024], [1024], [1024]]}");

    engine::Evaluator ev(ex, host);
    engine::EvaluationRecord r = ev.evaluate(c);
    CHECK(r.ok);
    CHECK(r.design == "layers=4, hidden=256, heads=4, head_op=l-dft, ff_stacks=1, ff_hidden=1024, pes=128, lanes_per_pe=16, macs_per_lane=1");
    CHECK(r.accuracy_source.rfind("surrogate: small-accuracy.csv (6 rows", 0) == 0);
    CHECK(r.metrics.area_mm2 > 0);
    // The same candidate gives the same record, bit for bit.
    const engine::EvaluationRecord again = ev.evaluate(c);
    CHECK(again.metrics.latency_s == r.metrics.latency_s);
    CHECK(again.metrics.energy_j == r.metrics.energy_j);
    CHECK(again.accuracy == r.accuracy);
}

TEST_CASE("the published joint space has no dead half: the lanes' non-linearity also sets the model's feed-forward activation") {
    PluginHost& host = test::builtin_plugins();
    const engine::Experiment ex = engine::load_experiment(source_dir + "/configs/experiments/codesign-edge.yaml", {}, host);
    REQUIRE(ex.codesign);
    const auto& cs = *ex.codesign;
    const std::size_t nm = cs.model.space.size();
    std::size_t knob = cs.accelerator.space.size();
    for (std::size_t k = 0; k < cs.accelerator.space.size(); ++k)
        if (cs.accelerator.space.knobs()[k].name == "non_linearity") knob = k;
    REQUIRE(knob < cs.accelerator.space.size());
    engine::Evaluator ev(ex, host);
    for (std::size_t v = 0; v < 2; ++v) {
        Candidate c(cs.joint.size(), 0);  // the smallest model on the smallest accelerator
        c[nm + knob] = v;
        const std::string act = cs.accelerator.space.knobs()[knob].values[v].as_string();
        CAPTURE(act);
        const engine::EvaluationRecord r = ev.evaluate(c);
        CHECK(r.ok);
        CHECK(r.reason == "");
        CHECK(r.model.find("\"ff_activation\":\"" + act + "\"") != std::string::npos);
    }
}

TEST_CASE("constrained domination, property: over random evaluations of codesign-edge no infeasible design scores above or dominates a feasible one") {
    PluginHost& host = test::builtin_plugins();
    const engine::Experiment ex = engine::load_experiment(source_dir + "/configs/experiments/codesign-edge.yaml", {}, host);
    REQUIRE(ex.codesign);
    const auto& cs = *ex.codesign;
    engine::Evaluator ev(ex, host);
    const engine::EvaluationRecord base = ev.evaluate_pair(*cs.baseline_model, *cs.baseline_accelerator, "baseline", false);
    ev.resolve_normalisers(base);
    std::mt19937_64 rng(2026);
    std::vector<engine::EvaluationRecord> feasible, infeasible;
    for (int i = 0; i < 240; ++i) {
        engine::EvaluationRecord r = ev.evaluate(cs.joint.sample(rng));
        (r.ok ? feasible : infeasible).push_back(std::move(r));
    }
    // Records the search cannot produce here: refused (unmeasured) and with absurd costs.
    engine::EvaluationRecord refused;
    refused.ok = false;
    refused.reason = "refused";
    ev.score(refused);
    infeasible.push_back(refused);
    CAPTURE(feasible.size());
    CAPTURE(infeasible.size());
    REQUIRE(feasible.size() >= 3);
    REQUIRE(infeasible.size() >= 3);
    for (const auto& f : feasible) {
        CHECK(f.violation == 0);
        for (const auto& x : infeasible) {
            CHECK(x.violation > 0);
            CHECK(x.score < f.score);
            for (std::size_t k = 0; k < 4; ++k) CHECK(x.objectives[k] > f.objectives[k]);
        }
    }
    // Among infeasible designs, score and objectives follow the violation.
    for (const auto& a : infeasible)
        for (const auto& b : infeasible)
            if (a.violation < b.violation) {
                CHECK(a.score > b.score);
                CHECK(a.objectives[1] < b.objectives[1]);
            }
    CHECK(refused.violation == unmeasured_violation);
}

TEST_CASE("the evaluator's reuse of model step graphs changes no result, through hits and evictions") {
    PluginHost& host = test::builtin_plugins();
    const engine::Experiment ex = engine::load_experiment(fixtures + "/small-joint.yaml", {}, host);
    const auto& cs = *ex.codesign;
    engine::Evaluator reusing(ex, host, 4), rebuilding(ex, host, 0);  // 32 models: 4 kept, so most are evicted
    const engine::EvaluationRecord base = reusing.evaluate_pair(*cs.baseline_model, *cs.baseline_accelerator, "baseline", false);
    reusing.resolve_normalisers(base);
    rebuilding.resolve_normalisers(base);
    // The first 8 models with each of their 12 accelerators in turn (hits on the 4 kept), then 64
    // candidates in a shuffled order (evictions and rebuilds).
    const std::vector<Candidate> every = all_candidates(cs.joint);
    std::vector<Candidate> all(every.begin(), every.begin() + 96);
    std::mt19937_64 rng(3);
    std::vector<Candidate> shuffled = every;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    all.insert(all.end(), shuffled.begin(), shuffled.begin() + 64);
    std::size_t differing = 0, ok = 0;
    for (const Candidate& c : all) {
        const engine::EvaluationRecord a = reusing.evaluate(c), b = rebuilding.evaluate(c);
        ok += a.ok ? 1 : 0;
        if (a.ok != b.ok || a.reason != b.reason || a.model != b.model || a.cycles != b.cycles || a.metrics.latency_s != b.metrics.latency_s ||
            a.metrics.energy_j != b.metrics.energy_j || a.metrics.area_mm2 != b.metrics.area_mm2 || a.accuracy != b.accuracy || a.score != b.score)
            ++differing;
    }
    MESSAGE("feasible: " << ok << " of " << all.size());
    CHECK(ok > 20);
    CHECK(differing == 0);
}

TEST_CASE("on a space small enough to evaluate exhaustively, boshcode and nsga2 reach within 1% of the optimum with fewer evaluations than random") {
    PluginHost& host = test::builtin_plugins();
    const engine::Experiment ex = engine::load_experiment(fixtures + "/small-joint.yaml", {}, host);
    const auto& cs = *ex.codesign;
    engine::Evaluator ev(ex, host);
    engine::EvaluationRecord base = ev.evaluate_pair(*cs.baseline_model, *cs.baseline_accelerator, "baseline", false);
    ev.resolve_normalisers(base);

    std::map<Candidate, engine::EvaluationRecord> table;
    for (const Candidate& c : all_candidates(cs.joint)) table.emplace(c, ev.evaluate(c));
    REQUIRE(table.size() == 384);
    double optimum = -1e300;
    for (const auto& [c, r] : table) optimum = std::max(optimum, r.score);
    const double target = optimum - 0.01 * std::abs(optimum);
    std::size_t near_optimal = 0;
    for (const auto& [c, r] : table) near_optimal += r.score >= target ? 1 : 0;
    CAPTURE(optimum);
    CAPTURE(near_optimal);

    // Evaluations (asked candidates, repeats included) until the best seen is within 1%.
    auto evaluations_to_target = [&](const std::string& plugin, std::uint64_t seed) {
        const PluginInfo* info = host.find(plugin, PluginKind::search);
        REQUIRE(info != nullptr);
        config::Diagnostics d;
        config::Node empty;
        empty.kind = config::Node::Kind::map;
        const auto search = host.create<SearchAlgorithm>(*info, Params(config::validate_map(empty, info->schema, "", d)));
        search->start(cs.joint, seed, {});
        std::size_t used = 0;
        while (used < 4 * table.size()) {
            const auto asked = search->ask(8);
            if (asked.empty()) break;
            std::vector<Observation> told;
            for (const auto& c : asked) {
                const engine::EvaluationRecord& r = table.at(c);
                ++used;
                if (r.score >= target) return used;
                told.push_back({c, r.score, std::vector<double>(r.objectives.begin(), r.objectives.end()), r.ok, r.reason});
            }
            search->tell(told);
        }
        return used;
    };
    auto median = [&](const std::string& plugin) {
        std::vector<std::size_t> runs;
        for (std::uint64_t seed = 1; seed <= 11; ++seed) runs.push_back(evaluations_to_target(plugin, seed));
        std::sort(runs.begin(), runs.end());
        std::string list;
        for (std::size_t r : runs) list += " " + std::to_string(r);
        const double mean = static_cast<double>(std::accumulate(runs.begin(), runs.end(), std::size_t{0})) / static_cast<double>(runs.size());
        MESSAGE(plugin << ": evaluations to within 1% of the optimum, seeds 1-11, sorted:" << list << "; median " << runs[5] << ", mean " << mean);
        return mean;
    };
    // The mean over 11 seeds is the expected cost; random's has a heavy tail (a few seeds need
    // hundreds of evaluations), which is what a search is for.
    const double random = median("random");
    const double boshcode = median("boshcode");
    const double nsga2 = median("nsga2");
    CHECK(boshcode < random);
    CHECK(nsga2 < random);
}

TEST_CASE("transcode run kind codesign: the same results at --threads 1 and 2, and a database sqlite3 reads") {
    TempDir dir;
    const auto a = run_cli("run " + fixtures + "/small-joint.yaml --quiet --threads 1 --out " + (dir.path() / "t1").string());
    REQUIRE(a.exit_code == 0);
    const auto b = run_cli("run " + fixtures + "/small-joint.yaml --quiet --threads 2 --out " + (dir.path() / "t2").string());
    REQUIRE(b.exit_code == 0);
    const std::string rows = sqlite_rows(dir.path() / "t1" / "search.db");
    CHECK(std::count(rows.begin(), rows.end(), '\n') == 24);
    CHECK(rows.find("0|0|[") == 0);
    CHECK(rows == sqlite_rows(dir.path() / "t2" / "search.db"));
    CHECK(codesign_section(dir.path() / "t1" / "results.json") == codesign_section(dir.path() / "t2" / "results.json"));
    const auto j = nlohmann::json::parse(test::read_file(dir.path() / "t1" / "results.json"))["codesign"];
    CHECK(j["evaluations"]["total"] == 24);
    CHECK(j["pareto"]["size"].get<int>() >= 1);
    CHECK(j["pareto"]["hypervolume"].get<double>() > 0);
    CHECK(j["best_vs_baseline"]["latency_reduction"].get<double>() > 0);
    // The best pair is written as configs that run as they are.
    const auto sim = run_cli("simulate --quiet --model " + (dir.path() / "t1" / "best_model.yaml").string() + " --accelerator " +
                             (dir.path() / "t1" / "best_accelerator.yaml").string() + " --out " + (dir.path() / "sim").string());
    CHECK(sim.exit_code == 0);
}

TEST_CASE("transcode run kind codesign: killed with SIGKILL mid-search, --resume loses and repeats nothing and finishes") {
    TempDir dir;
    const std::string exp = fixtures + "/small-joint.yaml";
    const auto whole = run_cli("run " + exp + " --quiet --threads 2 --out " + (dir.path() / "whole").string());
    REQUIRE(whole.exit_code == 0);

    const std::string out = (dir.path() / "killed").string();
    const auto killed = run_cli("run " + exp + " --quiet --threads 2 --out " + out + "; echo status=$?", "TRANSCODE_CRASH_AFTER_COMMITS=10");
    CHECK(killed.output.find("status=137") != std::string::npos);  // 128 + SIGKILL
    CHECK(test::run_shell("sqlite3 '" + out + "/search.db' 'select count(*) from evaluations'").output == "10\n");
    CHECK_FALSE(fs::exists(out + "/results.json"));

    const auto again = run_cli("run " + exp + " --quiet --threads 2 --out " + out);
    CHECK(again.exit_code == 2);
    CHECK(again.output.find(out + "/search.db: a search database is already here; add --resume to carry that search on, or choose another --out folder") !=
          std::string::npos);

    const auto resumed = run_cli("run " + exp + " --quiet --threads 2 --resume --out " + out);
    REQUIRE(resumed.exit_code == 0);
    CHECK(sqlite_rows(out + "/search.db") == sqlite_rows(dir.path() / "whole" / "search.db"));
    CHECK(codesign_section(out + "/results.json") == codesign_section(dir.path() / "whole" / "results.json"));
    CHECK(nlohmann::json::parse(test::read_file(out + "/results.json"))["codesign"]["evaluations"]["resumed_from_database"] == 10);

    const auto nothing = run_cli("run " + exp + " --quiet --resume --out " + (dir.path() / "empty").string());
    CHECK(nothing.exit_code == 2);
    CHECK(nothing.output.find("search.db: --resume needs the database of an earlier run, and there is none here") != std::string::npos);
}

TEST_CASE("transcode run --resume on a search.db killed before its first commit (no tables, no meta) starts the search afresh") {
    TempDir dir;
    const std::string exp = fixtures + "/small-joint.yaml";
    const auto whole = run_cli("run " + exp + " --quiet --set search.evaluations=8 --out " + (dir.path() / "whole").string());
    REQUIRE(whole.exit_code == 0);
    const std::string out = (dir.path() / "killed").string();
    fs::create_directories(out);
    // What a process killed between opening the database and committing its tables and meta leaves.
    REQUIRE(test::run_shell("sqlite3 '" + out + "/search.db' 'PRAGMA journal_mode=WAL;'").exit_code == 0);
    const auto resumed = run_cli("run " + exp + " --quiet --set search.evaluations=8 --resume --out " + out);
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    CHECK(sqlite_rows(out + "/search.db") == sqlite_rows(dir.path() / "whole" / "search.db"));
}

TEST_CASE("a damaged search.db is a clear error on --resume (exit 2), never a crash or a resume that lacks rows") {
    TempDir dir;
    const fs::path db = dir.path() / "search.db";
    const std::map<std::string, std::string> meta{{"experiment", "x"}, {"seed", "1"}};
    {
        engine::ResultStore store(db, false, meta);
        engine::EvaluationRecord r;
        r.candidate = {1, 2};
        r.encoding = {0.5, 1.0};
        for (std::int64_t slot = 0; slot < 3; ++slot) {
            r.slot = slot;
            store.insert(r);
        }
    }
    auto damage = [&](const std::string& sql) { REQUIRE(test::run_shell("sqlite3 '" + db.string() + "' \"" + sql + "\"").exit_code == 0); };
    auto resume_error = [&] {
        try {
            engine::ResultStore store(db, true, meta);
            (void)store.load();
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(engine::ResultStore(db, true, meta).load().size() == 3);

    damage("UPDATE evaluations SET candidate = '[1e30, -1]' WHERE slot = 1");
    CHECK(resume_error() == db.string() + ": evaluation round 0 slot 1 is damaged: the candidate is not a list of knob indices");
    damage("UPDATE evaluations SET candidate = '[1, 2' WHERE slot = 1");
    CHECK(resume_error().rfind(db.string() + ": evaluation round 0 slot 1 is damaged: [json.exception.parse_error.101]", 0) == 0);
    damage("UPDATE evaluations SET candidate = '[1, 2]'; ALTER TABLE evaluations DROP COLUMN seconds");
    CHECK(resume_error() == db.string() + ": cannot resume: the database is damaged: no such column: seconds");
    damage("DELETE FROM meta WHERE key = 'seed'");
    CHECK(resume_error() == db.string() + ": cannot resume: the database was made with seed '(none)', this experiment has '1'");

    // Not a database at all: SQLite's own words, as a ConfigError naming the file.
    for (const char* suffix : {"-wal", "-shm"}) fs::remove(db.string() + suffix);
    {
        std::ofstream out(db, std::ios::binary | std::ios::trunc);
        out << std::string(4096, 'x');
    }
    CHECK(resume_error() == db.string() + ": cannot resume: the database is damaged: file is not a database");
    const auto cli = run_cli("run " + fixtures + "/small-joint.yaml --quiet --resume --out " + dir.path().string());
    CHECK(cli.exit_code == 2);
    CHECK(cli.output.find(db.string() + ": cannot resume: the database is damaged: file is not a database") != std::string::npos);
}

TEST_CASE("infeasible candidates are stored with their reason and violation, scored penalty - violation, and the run goes on") {
    TempDir dir;
    const auto r = run_cli("run " + fixtures + "/small-joint.yaml --quiet --set objective.budget.area_mm2=30 --out " + dir.path().string());
    REQUIRE(r.exit_code == 0);
    const std::string rows = test::run_shell("sqlite3 '" + (dir.path() / "search.db").string() +
                                             "' \"select status, printf('%.6f', score + 1000000 + violation), violation > 0, reason, "
                                             "printf('%.6f', obj_area - 1000000 - violation) from evaluations where status = 'infeasible' limit 1\"")
                                 .output;
    // 104.4 mm2 against 30 mm2 is a violation of 104.4 / 30 - 1 = 2.48.
    CHECK(rows.rfind("infeasible|0.000000|1|area ", 0) == 0);
    CHECK(rows.find("mm2 is over the budget of 30 mm2 (violation ") != std::string::npos);
    CHECK((rows.find(")|0.000000") != std::string::npos || rows.find(")|-0.000000") != std::string::npos));

    // A penalty that a feasible design could score below is refused, with the bound.
    const auto bad = run_cli("run " + fixtures + "/small-joint.yaml --quiet --set objective.penalty=-5 --out " + (dir.path() / "b").string());
    CHECK(bad.exit_code == 2);
    CHECK(bad.output.find("--set:1:19: error: objective.penalty: the penalty -5 is not below every feasible score: with these weights a feasible "
                          "design can score down to -49999.5 (costs up to 100000 times the normalisers), so give a penalty below that, e.g. -1e+06 (range)") !=
          std::string::npos);
}

TEST_CASE("a space with no feasible point stops after search.give_up_after evaluations with the commonest reasons, exit 2") {
    TempDir dir;
    const std::string file = fixtures + "/small-joint.yaml";
    const auto r = run_cli("run " + file + " --quiet --set objective.budget.area_mm2=0.001 --set search.give_up_after=24 --out " + dir.path().string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(file + ": error: search.give_up_after: no feasible design in 24 evaluations; is the budget or the space too tight? "
                               "Commonest reasons:\n  24 of 24: area ") != std::string::npos);
    CHECK(r.output.find("mm2 is over the budget of 0.001 mm2 (violation 999)\nEvery evaluation is stored in the database; raise search.give_up_after "
                        "(0: never give up) to search longer.") != std::string::npos);
    CHECK(test::run_shell("sqlite3 '" + (dir.path() / "search.db").string() + "' 'select count(*) from evaluations'").output == "24\n");
}

TEST_CASE("an evaluation past search.evaluation_timeout_s is stored as infeasible, timed out, and --resume does not retry it") {
    TempDir dir;
    const std::string file = fixtures + "/small-joint.yaml";
    const std::string out = (dir.path() / "out").string();
    // 1 ns: every evaluation is past its budget at its first deadline check (the baseline is held to none).
    const auto r = run_cli("run " + file + " --quiet --set search.evaluation_timeout_s=1e-9 --set search.give_up_after=24 --out " + out);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(file + ": error: search.give_up_after: no feasible design in 24 evaluations; is the budget or the space too tight? "
                               "Commonest reasons:\n  24 of 24: timed out after 1e-09 s (search.evaluation_timeout_s)\n") != std::string::npos);
    const std::string stored = "select status, reason, count(*) from evaluations group by status, reason";
    CHECK(test::run_shell("sqlite3 '" + out + "/search.db' '" + stored + "'").output == "infeasible|timed out after 1e-09 s (search.evaluation_timeout_s)|24\n");

    // Resumed without the limit, the stored rows stand: nothing is evaluated again.
    const auto resumed = run_cli("run " + file + " --quiet --resume --set search.give_up_after=24 --out " + out);
    CHECK(resumed.exit_code == 2);
    CHECK(resumed.output.find("24 of 24: timed out after 1e-09 s (search.evaluation_timeout_s)") != std::string::npos);
    CHECK(test::run_shell("sqlite3 '" + out + "/search.db' '" + stored + "'").output == "infeasible|timed out after 1e-09 s (search.evaluation_timeout_s)|24\n");

    // A generous limit changes nothing: the same rows as a run without one.
    const auto a = run_cli("run " + file + " --quiet --out " + (dir.path() / "a").string());
    const auto b = run_cli("run " + file + " --quiet --set search.evaluation_timeout_s=3600 --out " + (dir.path() / "b").string());
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    CHECK(sqlite_rows(dir.path() / "a" / "search.db") == sqlite_rows(dir.path() / "b" / "search.db"));

    // A negative limit is an ordinary range error.
    const auto bad = run_cli("validate " + file + " --set search.evaluation_timeout_s=-1");
    CHECK(bad.exit_code == 2);
    CHECK(bad.output.find("error: search.evaluation_timeout_s: value -1 is below the minimum 0 (range)") != std::string::npos);
}

TEST_CASE("an accuracy table that holds constant what the design space varies is an error before the search") {
    TempDir dir;
    const std::string file = source_dir + "/configs/experiments/codesign-edge.yaml";
    const std::string csv = fixtures + "/gelu-only-accuracy.csv";
    const auto r = run_cli("run " + file + " --quiet --set accuracy.params.csv=" + csv + " --out " + dir.path().string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(file + ": error: accuracy.params.csv: accuracy surrogate: '" + csv +
                        "' holds ff_relu at 0 in every row, but the design space asks for 1 (29 of 64 sampled models); the table cannot tell how "
                        "ff_relu changes accuracy: add measured models that vary it, or hold it at 0 in the space") != std::string::npos);
    CHECK(!fs::exists(dir.path() / "results.json"));
}

TEST_CASE("sparsity per candidate: a table with sparsity columns simulates each model with its own predicted sparsity") {
    // The same seeded search twice: with the experiment's sparsity (0.5 / 0.9 / 0.9) and with a
    // table whose models are far less sparse (about 0.1 / 0.2 / 0.25). The accuracies agree; every
    // feasible pair takes longer and costs more energy with its own, lower sparsity.
    TempDir dir;
    const std::string file = fixtures + "/small-joint.yaml";
    REQUIRE(run_cli("run " + file + " --quiet --out " + (dir.path() / "experiment").string()).exit_code == 0);
    REQUIRE(run_cli("run " + file + " --quiet --set accuracy.params.csv=" + fixtures + "/small-accuracy-sparsity.csv --out " +
                    (dir.path() / "candidate").string())
                .exit_code == 0);
    const std::string query = "' \"select round, slot, status, latency_s, energy_j, accuracy from evaluations order by round, slot\"";
    const std::string a = test::run_shell("sqlite3 '" + (dir.path() / "experiment" / "search.db").string() + query).output;
    const std::string b = test::run_shell("sqlite3 '" + (dir.path() / "candidate" / "search.db").string() + query).output;
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    int compared = 0;
    while (std::getline(sa, la) && std::getline(sb, lb)) {
        auto fields = [](const std::string& line) {
            std::vector<std::string> f;
            std::stringstream ss(line);
            for (std::string x; std::getline(ss, x, '|');) f.push_back(x);
            return f;
        };
        const auto fa = fields(la), fb = fields(lb);
        REQUIRE(fa.size() == 6);
        REQUIRE(fb.size() == 6);
        if (fa[2] != "ok" || fb[2] != "ok") continue;
        CHECK(std::stod(fb[3]) > std::stod(fa[3]));
        CHECK(std::stod(fb[4]) > std::stod(fa[4]));
        CHECK(std::abs(std::stod(fb[5]) - std::stod(fa[5])) < 0.05);
        ++compared;
    }
    CHECK(compared >= 10);
    const nlohmann::json best = nlohmann::json::parse(test::read_file(dir.path() / "candidate" / "results.json"))["codesign"]["best"];
    CHECK(best["sparsity_from"] == "accuracy estimate");
    CHECK(nlohmann::json::parse(test::read_file(dir.path() / "experiment" / "results.json"))["codesign"]["best"]["sparsity_from"] == "experiment");
}

TEST_CASE("co-design config errors: unknown search plugin, refused design-space values, bad weights") {
    TempDir dir;
    for (const char* f : {"small-joint.yaml", "small-model-space.yaml", "small-accelerator-space.yaml", "small-accuracy.csv"}) {
        std::string text = test::read_file(fixtures + "/" + f);
        for (std::size_t at; (at = text.find("../../../configs")) != std::string::npos;) text.replace(at, 16, source_dir + "/configs");
        dir.write(f, text);
    }
    const std::string exp = (dir.path() / "small-joint.yaml").string();
    auto validate = [&](const std::string& args) { return run_cli("validate " + exp + " " + args).output; };
    CHECK(validate("--set search.plugin=simulated-annealing").find(
              "--set:1:15: error: search.plugin: unknown search plugin 'simulated-annealing'; available: search.boshcode, search.grid, search.nsga2, search.random "
              "(unknown-plugin)") != std::string::npos);
    CHECK(validate("--set objective.weights.latency=-1").find("--set:1:27: error: objective.weights.latency: value -1 is below the minimum 0 (range)") !=
          std::string::npos);
    CHECK(validate("--set objective.weights.latency=0 --set objective.weights.accuracy=0 --set objective.weights.energy=0 --set objective.weights.area=0")
              .find("error: objective.weights: every weight is 0: the score would rank nothing; give at least one weight > 0 (range)") != std::string::npos);

    std::string acc = test::read_file(dir.path() / "small-accelerator-space.yaml");
    acc.replace(acc.find("values: [1, 16]"), 15, "values: [1, 8]");
    dir.write("small-accelerator-space.yaml", acc);
    std::string model = test::read_file(dir.path() / "small-model-space.yaml");
    model.replace(model.find("hidden: [128, 256]"), 18, "hidden: [128, 0]");
    dir.write("small-model-space.yaml", model);
    const std::string out = validate("");
    CHECK(out.find((dir.path() / "small-model-space.yaml").string() +
                   ":8:17: error: space.model.knobs.hidden: value 0 of knob 'hidden' is refused by the model family (model.params.hidden[0]: value 0 must be "
                   "greater than 0) (design-space)") != std::string::npos);
    CHECK(out.find((dir.path() / "small-accelerator-space.yaml").string() +
                   ":12:39: error: space.accelerator.knobs.macs_per_lane: value 8 of knob 'macs_per_lane' is refused by the accelerator's components "
                   "(accelerator.processing_elements.units[0].params.figures: no figures for a lane with 8 MACs and a gelu unit; rows exist for (MACs/activation): "
                   "16/gelu, 16/relu, 1/gelu, 1/relu) (design-space)") != std::string::npos);
}

TEST_CASE("accuracy.trained trains each candidate through the engine's training service, the same at any --threads") {
    TempDir dir;
    const std::string exp = fixtures + "/tiny-trained.yaml";
    const auto a = run_cli("run " + exp + " --quiet --threads 1 --out " + (dir.path() / "t1").string());
    REQUIRE(a.exit_code == 0);
    const auto b = run_cli("run " + exp + " --quiet --threads 2 --out " + (dir.path() / "t2").string());
    REQUIRE(b.exit_code == 0);
    const std::string rows = test::run_shell("sqlite3 '" + (dir.path() / "t1" / "search.db").string() +
                                             "' 'select design, status, accuracy_source from evaluations order by round, slot'")
                                 .output;
    CHECK(rows ==
          "layers=1, hidden=16, heads=2, head_op=sa-sdp, ff_stacks=1, ff_hidden=32|ok|trained: 1 epoch on built-in sentiment task (negation and "
          "intensifier scope), vocabulary 122, 64 train / 32 validation, seed 2\n"
          "layers=1, hidden=16, heads=2, head_op=l-dft, ff_stacks=1, ff_hidden=32|ok|trained: 1 epoch on built-in sentiment task (negation and "
          "intensifier scope), vocabulary 122, 64 train / 32 validation, seed 2\n");
    // Validation accuracy over 32 examples: a multiple of 1/32, measured, and identical at any thread count.
    const std::string acc = test::run_shell("sqlite3 '" + (dir.path() / "t1" / "search.db").string() + "' 'select accuracy * 32 from evaluations'").output;
    CHECK(acc.find(".0\n") != std::string::npos);
    CHECK(sqlite_rows(dir.path() / "t1" / "search.db") == sqlite_rows(dir.path() / "t2" / "search.db"));
    // The table it writes is one the surrogate reads.
    CHECK(test::read_file(dir.path() / "t1" / "accuracy.csv").rfind("model,accuracy,source,steps,", 0) == 0);
}

namespace {

// An RFC 4180 file (the engine's CSV outputs) as rows of cells, header first, read by the engine's
// own reader (common/csv_table.hpp), which also refuses a row of another width than the header.
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
    engine::CsvFile csv = engine::parse_csv(text, "test.csv");
    std::vector<std::vector<std::string>> rows{std::move(csv.header)};
    for (auto& row : csv.rows) rows.push_back(std::move(row));
    return rows;
}

}  // namespace

TEST_CASE("co-design outputs: pareto.csv and evaluations.csv have a column per knob and objective, RFC 4180, and best_*.yaml is block YAML with a header") {
    TempDir dir;
    const fs::path out = dir.path() / "o";
    REQUIRE(run_cli("run " + fixtures + "/small-joint.yaml --quiet --out " + out.string()).exit_code == 0);
    const auto j = nlohmann::json::parse(test::read_file(out / "results.json"))["codesign"];

    const std::string text = test::read_file(out / "evaluations.csv");
    // Every record ends with CRLF, and no bare LF is left.
    CHECK(std::count(text.begin(), text.end(), '\n') == std::count(text.begin(), text.end(), '\r'));
    CHECK(text.substr(text.size() - 2) == "\r\n");
    const auto rows = csv_rows(text);
    REQUIRE(rows.size() == 1 + 24);
    const auto& header = rows.front();
    for (const auto& row : rows) CHECK(row.size() == header.size());
    auto column = [&](const std::string& name) {
        const auto it = std::find(header.begin(), header.end(), name);
        REQUIRE_MESSAGE(it != header.end(), name);
        return static_cast<std::size_t>(it - header.begin());
    };
    CHECK(std::vector<std::string>(header.begin(), header.begin() + 5) == std::vector<std::string>{"evaluation", "round", "slot", "status", "repeat"});
    // One column per knob of either side, prefixed by its side, and no packed design column.
    CHECK(std::count_if(header.begin(), header.end(), [](const std::string& h) { return h.rfind("model.", 0) == 0; }) >= 1);
    CHECK(std::count_if(header.begin(), header.end(), [](const std::string& h) { return h.rfind("accelerator.", 0) == 0; }) >= 1);
    CHECK(std::find(header.begin(), header.end(), "design") == header.end());
    for (const char* c : {"accuracy_fraction", "latency_s", "energy_j", "area_mm2", "score", "objective_accuracy_loss", "objective_latency",
                          "objective_energy", "objective_area", "reason"})
        column(c);
    // The best design's row holds its scores as results.json gives them (numbers written exactly).
    bool found = false;
    for (std::size_t i = 1; i < rows.size(); ++i)
        if (rows[i][column("status")] == "ok" && std::stod(rows[i][column("score")]) == j["best"]["score"].get<double>()) {
            found = true;
            CHECK(std::stod(rows[i][column("latency_s")]) == j["best"]["latency_s"].get<double>());
            CHECK(std::stod(rows[i][column("area_mm2")]) == j["best"]["area_mm2"].get<double>());
            CHECK(std::stod(rows[i][column("accuracy_fraction")]) == j["best"]["accuracy"].get<double>());
        }
    CHECK(found);

    const auto pareto = csv_rows(test::read_file(out / "pareto.csv"));
    CHECK(pareto.front() == header);
    CHECK(pareto.size() == 1 + j["pareto"]["size"].get<std::size_t>());
    for (std::size_t i = 1; i < pareto.size(); ++i) CHECK(pareto[i][column("status")] == "ok");
    const auto convergence = csv_rows(test::read_file(out / "convergence.csv"));
    CHECK(convergence.front() == std::vector<std::string>{"round", "evaluations", "feasible", "best_score", "hypervolume"});

    // best_*.yaml: block YAML (one key per line) under a header naming the experiment, the search,
    // the evaluation and its scores; named after the experiment, not after the base configs.
    for (const char* file : {"best_model.yaml", "best_accelerator.yaml"}) {
        CAPTURE(file);
        const std::string yaml = test::read_file(out / file);
        CHECK(yaml.find("# The ") == 0);
        CHECK(yaml.find("of the best pair of co-design experiment 'small-joint' (small-joint.yaml).\n") != std::string::npos);
        CHECK(yaml.find("\n# Found by search.random (seed 5) at evaluation ") != std::string::npos);
        CHECK(yaml.find(fmt::format("# Scores: score {:.6g}, accuracy ", j["best"]["score"].get<double>())) != std::string::npos);
        CHECK(yaml.find("\nname: \"small-joint-best\"\n") != std::string::npos);
        CHECK(yaml.find("published") == std::string::npos);
        std::size_t longest = 0, start = 0;
        for (std::size_t nl = yaml.find('\n'); nl != std::string::npos; start = nl + 1, nl = yaml.find('\n', start)) longest = std::max(longest, nl - start);
        CHECK(longest < 200);
    }
    // ... and both run as they are.
    const auto sim = run_cli("simulate --quiet --model " + (out / "best_model.yaml").string() + " --accelerator " + (out / "best_accelerator.yaml").string() +
                             " --out " + (dir.path() / "sim").string());
    CHECK(sim.exit_code == 0);
}

TEST_CASE("accuracy.trained on GLUE data: accuracy.csv records each row's budget and DynaProp's measured sparsity per role, and --resume keeps them") {
    TempDir dir;
    const std::string exp = fixtures + "/tiny-glue-trained.yaml";
    const std::string out = (dir.path() / "run").string();
    const auto a = run_cli("run " + exp + " --quiet --threads 1 --out " + out);
    REQUIRE_MESSAGE(a.exit_code == 0, a.output);
    const auto rows = csv_rows(test::read_file(out + "/accuracy.csv"));
    REQUIRE(rows.size() == 3);  // the header and the two models (gelu, relu)
    CHECK(rows[0] == std::vector<std::string>{"model", "accuracy", "source", "steps", "examples", "sequence_length", "batch_size", "epochs",
                                              "validation_examples", "train_seconds", "sparsity_activation", "sparsity_activation_gradient",
                                              "sparsity_weight_gradient"});
    std::set<std::string> activations;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& r = rows[i];
        REQUIRE(r.size() == rows[0].size());
        activations.insert(r[0].find("\"ff_activation\":\"relu\"") != std::string::npos ? "relu" : "gelu");
        CHECK(r[2].rfind("trained: 1 epoch on ", 0) == 0);
        CHECK(r[3] == "2");              // steps: max_steps_per_epoch
        CHECK(r[4] == "8");              // examples: 2 batches of 4 real sentences
        CHECK(r[5] == "8");              // sequence length
        CHECK(r[6] == "4");              // batch
        CHECK(r[7] == "1");              // epochs
        CHECK(r[8] == "4");              // the whole dev split
        CHECK(std::stod(r[9]) >= 0);
        for (std::size_t k = 10; k < 13; ++k) {
            CAPTURE(k);
            const double s = std::stod(r[k]);
            CHECK(s > 0);  // calibrated to targets of 30% and 50%: real zeros in every role
            CHECK(s < 1);
        }
    }
    CHECK(activations == std::set<std::string>{"gelu", "relu"});
    // The database's accuracy_details column holds the same, and results.json the best's.
    const std::string details =
        test::run_shell("sqlite3 '" + out + "/search.db' \"select accuracy_details from evaluations order by round, slot limit 1\"").output;
    const nlohmann::json d = nlohmann::json::parse(details);
    CHECK(d["training"]["steps"] == 2);
    CHECK(d["training"]["sequence_length"] == 8);
    CHECK(d["sparsity"].size() == 3);
    CHECK(d["sparsity"] == d["training"]["sparsity"]);
    CHECK(nlohmann::json::parse(test::read_file(out + "/results.json"))["codesign"]["best"]["accuracy_details"]["training"]["examples"] == 8);

    // Killed after the first commit, resumed: the stored row keeps its details and the table is the same.
    const std::string killed = (dir.path() / "killed").string();
    const auto k = run_cli("run " + exp + " --quiet --threads 1 --out " + killed + "; echo status=$?", "TRANSCODE_CRASH_AFTER_COMMITS=1");
    CHECK(k.output.find("status=137") != std::string::npos);
    // A database of before the column: drop it, as an older engine would have made it.
    test::run_shell("sqlite3 '" + killed + "/search.db' 'alter table evaluations drop column accuracy_details'");
    const auto resumed = run_cli("run " + exp + " --quiet --threads 1 --resume --out " + killed);
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    const auto again = csv_rows(test::read_file(killed + "/accuracy.csv"));
    REQUIRE(again.size() == 3);
    // The row stored before the column existed has empty budget cells; the evaluated one has them.
    int with_budget = 0;
    for (std::size_t i = 1; i < again.size(); ++i) with_budget += again[i][3] == "2" ? 1 : 0;
    CHECK(with_budget == 1);
}

TEST_CASE("role_sparsity pools the pruned points by role and leaves out the logits") {
    std::map<PruningPoint, engine::RoleCount> points;
    points[PruningPoint::dense] = {30, 100};
    points[PruningPoint::attention_scores] = {10, 50};
    points[PruningPoint::attention_probabilities] = {20, 50};
    points[PruningPoint::logits] = {0, 1000};
    points[PruningPoint::activation_gradient] = {9, 10};
    points[PruningPoint::logits_gradient] = {0, 1000};
    const auto s = engine::role_sparsity(points);
    CHECK(s.size() == 2);
    CHECK(s.at("activation") == doctest::Approx(60.0 / 200.0));
    CHECK(s.at("activation_gradient") == doctest::Approx(0.9));
    CHECK(s.count("weight_gradient") == 0);
}

TEST_CASE("design-space files: unknown, missing and repeated knobs, counts out of order and paths the base lacks are located errors") {
    TempDir dir;
    const std::string models = source_dir + "/configs/models/bert-tiny.yaml";
    const auto m = dir.write("m.yaml", "name: bad-model\ntarget: model\nbase: " + models +
                                           "\nknobs:\n  layers: [2]\n  hidden: [128, 128]\n  heads: [2]\n  head_op: [sa-sdp]\n  ff_stacks: [1]\n  ff_hidden: [512]\n");
    const auto order = dir.write("order.yaml", "name: bad-order\ntarget: model\nbase: " + models +
                                                   "\nknobs:\n  layers: [4, 2]\n  hidden: [128]\n  heads: [2]\n  head_ops: [sa-sdp]\n  ff_stacks: [1]\n  ff_hidden: [512]\n");
    const auto a = dir.write("a.yaml", "name: bad-acc\ntarget: accelerator\nbase: " + source_dir +
                                           "/configs/accelerators/acceltran-edge.yaml\nknobs:\n"
                                           "  - {name: pes, values: [64], set: [processing_elements.cont]}\n"
                                           "  - {name: lanes, values: [8], sett: [x]}\n");
    const auto r = run_cli("validate " + m.string() + " " + order.string() + " " + a.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(m.string() + ":5:3: error: knobs.head_ops: knob 'head_ops' is missing; give its list of values (one value fixes it) (required)") !=
          std::string::npos);
    CHECK(r.output.find(m.string() + ":6:17: error: knobs.hidden[1]: value 128 is listed twice (duplicate)") != std::string::npos);
    CHECK(r.output.find(m.string() + ":8:3: error: knobs.head_op: unknown knob 'head_op' (did you mean 'head_ops'?); a flexibert space has layers, hidden, "
                                     "heads, head_ops, ff_stacks, ff_hidden and optionally ff_activation (unknown-key)") != std::string::npos);
    CHECK(r.output.find(order.string() + ":5:15: error: knobs.layers[1]: counts must be listed in ascending order (2 follows 4) (order)") != std::string::npos);
    CHECK(r.output.find(a.string() + ":5:37: error: knobs[0].set[0]: path 'processing_elements.cont' does not exist in the base accelerator acceltran-edge (path)") !=
          std::string::npos);
    CHECK(r.output.find(a.string() + ":6:5: error: knobs[1]: knob 'lanes' sets nothing: give set (accelerator paths) or model_params (required)") !=
          std::string::npos);
    CHECK(r.output.find(a.string() + ":6:32: error: knobs[1].sett: unknown key 'sett' (did you mean 'set'?); a knob has name, values, set, model_params and "
                                     "ordinal (unknown-key)") != std::string::npos);
}
