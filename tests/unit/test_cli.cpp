// The real `transcode` executable on real configs: exit codes, messages and results.json.
#include <doctest/doctest.h>

#include <algorithm>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "test_support.hpp"
#include "transcode/version.hpp"

using transcode::test::read_file;
using transcode::test::run_cli;
using transcode::test::TempDir;
namespace fs = std::filesystem;

namespace {
const std::string source_dir = TRANSCODE_SOURCE_DIR;
const std::string fixtures = TRANSCODE_TEST_FIXTURES;
const std::string probe_experiment = source_dir + "/configs/experiments/dynaprop-probe.yaml";
}  // namespace

TEST_CASE("transcode version and --version") {
    const auto r = run_cli("version");
    CHECK(r.exit_code == 0);
    CHECK(r.output == "transcode 0.1.0 (SDK ABI " + std::to_string(TRANSCODE_SDK_ABI_VERSION) + ")\n");
    const auto flag = run_cli("--version");
    CHECK(flag.exit_code == 0);
    CHECK(flag.output == r.output);
}

TEST_CASE("an unknown or missing command gets its own message, the command list and a suggestion, exit 2") {
    const std::string commands = "Commands: run, simulate, validate, plugins, model, import, tokenize, schema, accuracy, report, version (transcode --help for more)\n";
    const auto typo = run_cli("runn x.yaml");
    CHECK(typo.exit_code == 2);
    CHECK(typo.output == "error: unknown command 'runn'. Did you mean 'run'? " + commands);
    const auto far = run_cli("frobnicate");
    CHECK(far.exit_code == 2);
    CHECK(far.output == "error: unknown command 'frobnicate'. " + commands);
    const auto none = run_cli("");
    CHECK(none.exit_code == 2);
    CHECK(none.output == "error: no command given. " + commands);
}

TEST_CASE("--quiet still prints the line that says where the results are") {
    TempDir out;
    const auto r = run_cli("run " + probe_experiment + " --quiet --out " + out.path().string());
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.rfind("  status ok, ", 0) == 0);
    CHECK(r.output.find("s; results: " + (out.path() / "results.json").string() + "\n") != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
}

TEST_CASE("the results line gives results.json's status: an infeasible design says so, with its reason, and still exits 0") {
    TempDir out;
    const auto r = run_cli("simulate --quiet --fidelity analytic --model " + source_dir + "/configs/models/bert-tiny.yaml --accelerator " + source_dir +
                           "/configs/accelerators/acceltran-edge.yaml --set accelerator.units[activation_buffer].params.size_mb=0.001 --out " +
                           out.path().string());
    CHECK(r.exit_code == 0);
    CHECK(r.output.rfind("  status infeasible (op 'layer0.head0.q.matmul' (matmul): no tile fits the buffers (tiles get half of each buffer): the "
                         "activation buffer holds 524.288 bytes; ",
                         0) == 0);
    const auto doc = nlohmann::json::parse(transcode::test::read_file(out.path() / "results.json"));
    CHECK(doc["status"] == "infeasible");
}

TEST_CASE("every command has --help, a bad argument exits 2") {
    for (const char* cmd : {"--help", "run --help", "validate --help", "plugins --help", "plugins list --help", "plugins describe --help", "tokenize --help", "version --help"}) {
        CAPTURE(cmd);
        const auto r = run_cli(cmd);
        CHECK(r.exit_code == 0);
        CHECK(r.output.find("Usage:") != std::string::npos);
    }
    CHECK(run_cli("frobnicate").exit_code == 2);
    CHECK(run_cli("").exit_code == 2);
    CHECK(run_cli("plugins list --kind gizmo").exit_code == 2);
    const auto r = run_cli("run " + probe_experiment + " --threads 0");
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("--threads: Value 0 not in range 1 to 1024") != std::string::npos);
}

TEST_CASE("validate reports all three mistakes of a file, each with file:line:col, and exits 2") {
    const std::string file = fixtures + "/three_mistakes.yaml";
    const auto r = run_cli("validate " + file);
    CHECK(r.exit_code == 2);
    CHECK(r.output == file + ":4:1: error: sede: unknown key 'sede'; did you mean 'seed'? (unknown-key)\n" + file +
                          ":6:9: error: probe.rows: value -4 must be greater than 0 (range)\n" + file +
                          ":10:12: error: pruning.params.tau_t: expected a float, got 'lots' (type)\n"
                          "1 of 1 file(s) invalid\n");
}

TEST_CASE("validate accepts every shipped experiment and model") {
    for (const char* dir : {"/configs/experiments", "/configs/models"})
        for (const auto& entry : fs::directory_iterator(source_dir + dir)) {
            CAPTURE(entry.path().string());
            const auto r = run_cli("validate " + entry.path().string());
            CHECK(r.exit_code == 0);
            CHECK(r.output.find(std::string(": ok (") + (std::string(dir) == "/configs/models" ? "model '" : "experiment '")) != std::string::npos);
        }
}

TEST_CASE("plugins list and describe show the real plugins and their schemas") {
    const auto list = run_cli("plugins list");
    CHECK(list.exit_code == 0);
    CHECK(list.output.rfind("NAME", 0) == 0);
    for (const char* name : {"pruning.dynaprop", "pruning.topk", "pruning.none", "search.random", "search.grid"}) CHECK(list.output.find(name) != std::string::npos);

    const auto only_search = run_cli("plugins list --kind search --json");
    CHECK(only_search.exit_code == 0);
    const auto j = nlohmann::json::parse(only_search.output);
    REQUIRE(j.is_array());
    for (const auto& p : j) CHECK(p["kind"] == "search");

    const auto d = run_cli("plugins describe dynaprop");
    CHECK(d.exit_code == 0);
    CHECK(d.output.rfind("pruning.dynaprop (pruning plugin, library pruning 0.1.0, ", 0) == 0);
    CHECK(d.output.find("\n  tau_t: ") != std::string::npos);
    CHECK(d.output.find("[0.0001]") != std::string::npos);

    const auto dj = run_cli("plugins describe pruning.topk --json");
    CHECK(dj.exit_code == 0);
    const auto topk = nlohmann::json::parse(dj.output);
    CHECK(topk["name"] == "pruning.topk");
    CHECK(topk["params"][0]["name"] == "k");

    const auto bad = run_cli("plugins describe dynaprp");
    CHECK(bad.exit_code == 2);
    CHECK(bad.output == "error: no plugin named 'dynaprp'; did you mean 'dynaprop'?\n");
}

TEST_CASE("run the DynaProp probe: results.json holds the measured sparsity, matching the Gaussian closed form") {
    TempDir out;
    const auto r = run_cli("run " + probe_experiment + " --quiet --out " + out.path().string());
    REQUIRE(r.exit_code == 0);
    const auto doc = nlohmann::json::parse(read_file(out.path() / "results.json"));
    for (const char* key : {"experiment", "engine_version", "plugins", "config", "pruning", "sparsity", "status"}) CHECK(doc.contains(key));
    CHECK(doc["status"] == "ok");
    CHECK(doc["plugins"]["pruning"] == "0.1.0");
    CHECK(doc["pruning"]["plugin"] == "pruning.dynaprop");
    // DynaProp zeroes |x| <= tau; for x ~ N(0, s^2) that is a fraction erf(tau / (s sqrt 2)).
    const double tau_i = doc["pruning"]["params"]["tau_i_train"], tau_t = doc["pruning"]["params"]["tau_t"];
    const double s_act = doc["sparsity"]["activation"]["source_std"], s_grad = doc["sparsity"]["weight_gradient"]["source_std"];
    CHECK(doc["sparsity"]["activation"]["sparsity"].get<double>() == doctest::Approx(std::erf(tau_i / (s_act * std::sqrt(2.0)))).epsilon(0.05));
    CHECK(doc["sparsity"]["weight_gradient"]["sparsity"].get<double>() == doctest::Approx(std::erf(tau_t / (s_grad * std::sqrt(2.0)))).epsilon(0.05));
}

TEST_CASE("runs are reproducible, independent of --threads, and --set changes them") {
    TempDir a, b, c;
    REQUIRE(run_cli("run " + probe_experiment + " -q --threads 1 --out " + a.path().string()).exit_code == 0);
    REQUIRE(run_cli("run " + probe_experiment + " -q --threads 2 --out " + b.path().string()).exit_code == 0);
    REQUIRE(run_cli("run " + probe_experiment + " -q --set seed=7 --out " + c.path().string()).exit_code == 0);
    CHECK(read_file(a.path() / "results.json") == read_file(b.path() / "results.json"));
    CHECK(read_file(a.path() / "results.json") != read_file(c.path() / "results.json"));
}

TEST_CASE("inference mode leaves gradients alone") {
    TempDir out;
    REQUIRE(run_cli("run " + probe_experiment + " -q --set mode=inference --out " + out.path().string()).exit_code == 0);
    const auto doc = nlohmann::json::parse(read_file(out.path() / "results.json"));
    CHECK(doc["sparsity"]["activation"]["pruned"] == true);
    CHECK(doc["sparsity"]["weight_gradient"]["pruned"] == false);
    CHECK(doc["sparsity"]["weight_gradient"]["zeros"] == 0);
}

TEST_CASE("a bad --set on run exits 2 with a located message and writes nothing") {
    TempDir out;
    const auto r = run_cli("run " + probe_experiment + " --set probe.rows=0 --out " + out.path().string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == "--set:1:12: error: probe.rows: value 0 must be greater than 0 (range)\n");
    CHECK_FALSE(fs::exists(out.path() / "results.json"));
}

TEST_CASE("a plugin listed by the experiment is loaded, when it throws, the run names it and exits 2") {
    TempDir dir;
    const auto exp = dir.write("exp.yaml", "experiment: boom\nkind: sparsity_probe\nplugins: [" + std::string(TRANSCODE_TEST_PLUGIN_DIR) +
                                               "/transcode-test-throwing.so]\npruning:\n  plugin: throwing.in_prune\n");
    const auto r = run_cli("run " + exp.string() + " -q --out " + (dir.path() / "out").string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == "error: plugin 'throwing.in_prune' failed in prune(): deliberate failure in prune\n");
    CHECK_FALSE(fs::exists(dir.path() / "out" / "results.json"));

    const auto missing = dir.write("exp2.yaml", "experiment: m\nkind: sparsity_probe\nplugins: [nope.so]\n");
    const auto r2 = run_cli("validate " + missing.string());
    CHECK(r2.exit_code == 2);
    CHECK(r2.output.find(missing.string() + ":3:11: error: plugins[0]: plugin '" + (dir.path() / "nope.so").string() + "': no such file (plugin)") !=
          std::string::npos);
}

TEST_CASE("a plugin that misreports its zero count is caught, not trusted") {
    TempDir dir;
    const auto exp = dir.write("exp.yaml", "experiment: liar\nkind: sparsity_probe\nplugins: [" + std::string(TRANSCODE_TEST_PLUGIN_DIR) +
                                               "/transcode-test-variant-7.so]\npruning:\n  plugin: variant.liar\n");
    const auto r = run_cli("run " + exp.string() + " -q --out " + (dir.path() / "out").string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == "error: plugin 'variant.liar' failed in prune(): reported 0 zeros of 65536 elements, but the tensor holds 65536 zeros of 65536\n");
}

TEST_CASE("an output folder that cannot be created fails before the run") {
    TempDir dir;
    const auto blocker = dir.write("file", "x");
    const auto r = run_cli("run " + probe_experiment + " -q --out " + (blocker / "sub").string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == "output folder '" + (blocker / "sub").string() + "': cannot create it: Not a directory\n");
}

TEST_CASE("a missing experiment file is an argument error") {
    const auto r = run_cli("run /nonexistent/exp.yaml");
    CHECK(r.exit_code == 2);
    CHECK(r.output == "experiment: File does not exist: /nonexistent/exp.yaml\nRun with --help or --help-all for more information.\n");
}

TEST_CASE("results that cannot be written: exit 2 for an unwritable path, exit 1 for a failed write") {
    TempDir dir;
    fs::create_directories(dir.path() / "a" / "results.json" / "inside");  // a folder where the file must go
    const auto r = run_cli("run " + probe_experiment + " -q --out " + (dir.path() / "a").string());
    CHECK(r.exit_code == 2);
    CHECK(r.output == (dir.path() / "a" / "results.json").string() + ": cannot write results: Is a directory\n");

    // Every write to a file fails (a file size limit of 0, its signal ignored: EFBIG, like a full disk).
    fs::create_directories(dir.path() / "b");
    const auto full = transcode::test::run_shell("trap '' XFSZ; ulimit -f 0; '" + std::string(TRANSCODE_CLI) + "' run " + probe_experiment + " -q --out " +
                                      (dir.path() / "b").string());
    CHECK(full.exit_code == 1);
    CHECK(full.output == "error: " + (dir.path() / "b" / "results.json").string() + ": write failed (disk full?)\n");
    CHECK_FALSE(fs::exists(dir.path() / "b" / "results.json"));
    CHECK(fs::is_empty(dir.path() / "b"));  // no temporary file left behind, and the lock released
}

TEST_CASE("accuracy fit --report cross-validates an experiment's surrogate or a CSV, and bad input exits 2") {
    const std::string experiment = source_dir + "/configs/experiments/codesign-edge.yaml";
    const std::string csv = source_dir + "/configs/accuracy/flexibert2-sst2.csv";
    const auto r = run_cli("accuracy fit " + experiment + " --report");
    CAPTURE(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("accuracy.surrogate on flexibert2-sst2.csv: Gaussian process, isotropic RBF kernel on 12 features") != std::string::npos);
    CHECK(r.output.find("held-out: 86 rows, 5 folds, seed 1 (hyper-parameters refitted on each fold's training rows)") != std::string::npos);
    CHECK(r.output.find("(accuracy)") != std::string::npos);
    CHECK(r.output.find("constant (training mean)") != std::string::npos);
    CHECK(r.output.find("calibration: ") != std::string::npos);

    // The same table through --csv gives the same figures; --set passes surrogate parameters.
    const auto direct = run_cli("accuracy fit --csv " + csv + " --report");
    CHECK(direct.exit_code == 0);
    CHECK(direct.output == r.output);
    const auto ard = run_cli("accuracy fit --csv " + csv + " --set kernel=ard --folds 4 --seed 7 --report");
    CHECK(ard.exit_code == 0);
    CHECK(ard.output.find("ARD RBF kernel") != std::string::npos);
    CHECK(ard.output.find("held-out: 86 rows, 4 folds, seed 7") != std::string::npos);
    const auto plain = run_cli("accuracy fit --csv " + csv);
    CHECK(plain.exit_code == 0);
    CHECK(plain.output == "flexibert2-sst2.csv: accuracy.surrogate fitted; add --report for its 5-fold held-out metrics\n");

    TempDir dir;
    const auto missing = dir.path() / "missing.csv";
    const auto m = run_cli("accuracy fit --csv " + missing.string() + " --report");
    CHECK(m.exit_code == 2);
    CHECK(m.output == "error: accuracy surrogate: cannot read '" + missing.string() + "'\n");
    const auto folds = run_cli("accuracy fit --csv " + csv + " --folds 1 --report");
    CHECK(folds.exit_code == 2);
    CHECK(folds.output == "error: --folds must be at least 2, got 1\n");
    const auto three = dir.write("three.csv", "accuracy,model\n0.5,{preset: bert-tiny}\n0.6,{preset: bert-mini}\n0.7,{preset: bert-small}\n");
    const auto few = run_cli("accuracy fit --csv " + three.string() + " --report");
    CHECK(few.exit_code == 2);
    CHECK(few.output == "error: accuracy surrogate: '" + three.string() +
                            "' has 3 rows of 3 distinct models, too few for 5 folds (each fold needs a model of its own)\n");
    const auto neither = run_cli("accuracy fit --report");
    CHECK(neither.exit_code == 2);
    CHECK(neither.output.find("error: accuracy fit needs an experiment file (its accuracy: section) or --csv FILE (accuracy.surrogate), not both") !=
          std::string::npos);
    const auto bad_set = run_cli("accuracy fit --csv " + csv + " --set kernel --report");
    CHECK(bad_set.exit_code == 2);
    const auto not_codesign = run_cli("accuracy fit " + probe_experiment + " --report");
    CHECK(not_codesign.exit_code == 2);
    CHECK(not_codesign.output.find("accuracy fit reads the accuracy: section of a codesign experiment") != std::string::npos);
}
