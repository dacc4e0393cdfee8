// Output folders: the experiment name is a name, never a path; a folder is locked while a run
// writes it and checked writable before any work; every output file is written atomically
// (a uniquely named temporary file, fsynced and renamed), and results.json last.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.hpp"
#include "common/csv_table.hpp"
#include "common/progress.hpp"
#include "config/yaml_text.hpp"
#include "common/output_folder.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace transcode;
using transcode::test::run_cli;
using transcode::test::TempDir;

namespace {

const std::string source_dir = TRANSCODE_SOURCE_DIR;
const std::string probe_experiment = source_dir + "/configs/experiments/dynaprop-probe.yaml";
const std::string training_experiment = source_dir + "/configs/experiments/bert-tiny-train.yaml";
// A small model and one short epoch, so the training cases stay fast under AddressSanitizer too.
const std::string small_training =
    " -q --set training.epochs=1 --set training.max_steps_per_epoch=2 --set data.synthetic.train=64 --set data.synthetic.validation=32"
    " --set \"model.params={layers: 1, hidden: [32], heads: [[sa-sdp]], ff: [[64]], sequence_length: 16, max_position: 16, batch_size: 8, "
    "vocab_size: 128}\"";

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("an experiment name that is a path, empty, dot or dot-dot, or starts with a dash is a located config error, and nothing is written") {
    TempDir dir;
    const std::string tail = "; the experiment name becomes the output folder out/NAME, so it must be a name, not a path (name)\n";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"../../x", "'../../x' is not a plain name: it holds '/'"},
        {"a/b", "'a/b' is not a plain name: it holds '/'"},
        {"'a\\b'", "'a\\b' is not a plain name: it holds '\\'"},
        {"\"a\\0b\"", "'a\\0b' is not a plain name: it holds a NUL byte"},
        {"'..'", "'..' is not a plain name: it is '..'"},
        {"'.'", "'.' is not a plain name: it is '.'"},
        {"''", "'' is not a plain name: it is empty"},
        {"-rf", "'-rf' is not a plain name: it starts with '-', which a command line reads as an option"},
    };
    for (const auto& [yaml, message] : cases) {
        CAPTURE(yaml);
        const auto work = dir.path() / "work" / "deeper";
        fs::create_directories(work);
        const auto exp = dir.write("exp.yaml", "experiment: " + yaml + "\nkind: sparsity_probe\n");
        const auto r = test::run_shell("cd '" + work.string() + "' && '" + TRANSCODE_CLI + "' run -q '" + exp.string() + "'");
        CHECK(r.exit_code == 2);
        CHECK(r.output == exp.string() + ":1:13: error: experiment: " + message + tail);
        // Nothing was created, neither under out/ nor outside it.
        CHECK(names_in(dir.path()) == std::vector<std::string>{"exp.yaml", "work"});
        CHECK(names_in(dir.path() / "work") == std::vector<std::string>{"deeper"});
        CHECK(names_in(work).empty());
    }
    // validate reports it too, and a plain name with dots inside is fine.
    const auto bad = dir.write("bad.yaml", "experiment: ../x\nkind: sparsity_probe\n");
    CHECK(run_cli("validate " + bad.string()).exit_code == 2);
    const auto good = dir.write("good.yaml", "experiment: v1.2-probe_a\nkind: sparsity_probe\n");
    CHECK(run_cli("validate " + good.string()).exit_code == 0);
}

TEST_CASE("a second run into an output folder that a run holds exits 2 naming the holder's process") {
    TempDir dir;
    const fs::path out = dir.path() / "out";
    {
        const engine::OutputFolderLock held(out);  // this test process plays the running run
        CHECK(fs::exists(out / engine::output_lock_name));
        const auto r = run_cli("run " + probe_experiment + " -q --out " + out.string());
        CHECK(r.exit_code == 2);
        CHECK(r.output == "output folder '" + out.string() + "' is in use by another transcode run (process " + std::to_string(::getpid()) +
                              "); wait for it to finish, or choose another --out folder\n");
        CHECK_FALSE(fs::exists(out / "results.json"));
        // A second lock in the same process is refused the same way.
        CHECK_THROWS_WITH_AS([&] { const engine::OutputFolderLock again(out); }(),
                             ("output folder '" + out.string() + "' is in use by another transcode run (process " + std::to_string(::getpid()) +
                              "); wait for it to finish, or choose another --out folder")
                                 .c_str(),
                             ConfigError);
    }
    // Released: the lock file is gone, and the next run goes ahead and leaves only its outputs.
    CHECK_FALSE(fs::exists(out / engine::output_lock_name));
    const auto r = run_cli("run " + probe_experiment + " -q --out " + out.string());
    CHECK(r.exit_code == 0);
    CHECK(names_in(out) == std::vector<std::string>{"results.json"});

    // A lock file left by a killed run (its lock released by the kernel) does not block.
    test::TempDir other;
    std::ofstream(other.path() / engine::output_lock_name) << "99999999\n";
    CHECK(run_cli("run " + probe_experiment + " -q --out " + other.path().string()).exit_code == 0);
}

TEST_CASE("an output folder that cannot be written is refused before any training starts") {
    // /sys/kernel exists and is a folder, but no file can be created in it, even by root.
    const auto r = run_cli("run " + training_experiment + " -q --out /sys/kernel");
    CHECK(r.exit_code == 2);
    CHECK(r.output == "output folder '/sys/kernel': cannot write in it: Permission denied\n");
}

TEST_CASE("write_file_atomically: a unique temporary file, renamed, so nothing else in the folder matters and nothing is left behind") {
    TempDir dir;
    const fs::path file = dir.path() / "table.csv";
    // The old shared name, FILE.tmp, is taken by a folder: it no longer matters.
    fs::create_directories(dir.path() / "table.csv.tmp");
    engine::write_file_atomically(file, "a,b\n1,2\n");
    CHECK(test::read_file(file) == "a,b\n1,2\n");
    engine::write_file_atomically(file, "replaced\n");
    CHECK(test::read_file(file) == "replaced\n");
    CHECK(names_in(dir.path()) == std::vector<std::string>{"table.csv", "table.csv.tmp"});
    // The usual permissions (0666 less the umask), not mkstemp's 0600.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    CHECK((fs::status(file).permissions() & fs::perms::all) == static_cast<fs::perms>(0666 & ~mask));

    // A folder in the file's place, and a folder that does not exist.
    fs::create_directories(dir.path() / "taken" / "inside");
    CHECK_THROWS_WITH_AS(engine::write_file_atomically(dir.path() / "taken", "x", "results"),
                         (dir.path() / "taken").string().append(": cannot write results: Is a directory").c_str(), ConfigError);
    CHECK_THROWS_WITH_AS(engine::write_file_atomically(dir.path() / "nowhere" / "f.csv", "x"),
                         (dir.path() / "nowhere" / "f.csv").string().append(": cannot write (is the output folder writable?)").c_str(), ConfigError);
    CHECK(names_in(dir.path()) == std::vector<std::string>{"table.csv", "table.csv.tmp", "taken"});
}

TEST_CASE("results.json is written last: a stale one is removed when a run starts, so a run that fails leaves none") {
    TempDir dir;
    const fs::path out = dir.path() / "out";
    fs::create_directories(out);
    std::ofstream(out / "results.json") << "{\"status\": \"stale\"}\n";
    const auto exp = dir.write("exp.yaml", "experiment: boom\nkind: sparsity_probe\nplugins: [" + std::string(TRANSCODE_TEST_PLUGIN_DIR) +
                                               "/transcode-test-throwing.so]\npruning:\n  plugin: throwing.in_prune\n");
    const auto r = run_cli("run " + exp.string() + " -q --out " + out.string());
    CHECK(r.exit_code == 2);
    CHECK_FALSE(fs::exists(out / "results.json"));
    CHECK(names_in(out).empty());

    // A training run writes its checkpoint, curves.csv, ops.csv and the sparsity profile before
    // results.json, and leaves no temporary file and no lock file.
    const fs::path trained = dir.path() / "trained";
    const auto t = run_cli("run " + training_experiment + small_training + " --out " + trained.string());
    REQUIRE(t.exit_code == 0);
    CAPTURE(t.output);
    CHECK(names_in(trained) == std::vector<std::string>{"checkpoint.bin", "curves.csv", "ops.csv", "results.json", "sparsity_profile.yaml"});
    const auto mtime = [&](const char* name) { return fs::last_write_time(trained / name); };
    CHECK(mtime("results.json") >= mtime("curves.csv"));
    CHECK(mtime("results.json") >= mtime("sparsity_profile.yaml"));
    CHECK(mtime("results.json") >= mtime("ops.csv"));

    // A run refused before it writes anything (a co-design search.db here, without --resume) leaves
    // the earlier run's results.json in place.
    const std::string codesign = std::string(TRANSCODE_TEST_FIXTURES) + "/codesign/small-joint.yaml";
    const fs::path searched = dir.path() / "searched";
    REQUIRE(run_cli("run " + codesign + " --quiet --out " + searched.string()).exit_code == 0);
    const std::string first = test::read_file(searched / "results.json");
    const auto again = run_cli("run " + codesign + " --quiet --out " + searched.string());
    CHECK(again.exit_code == 2);
    CHECK(again.output.find("search.db: a search database is already here") != std::string::npos);
    CHECK(test::read_file(searched / "results.json") == first);
}

TEST_CASE("CsvTable writes RFC 4180: CRLF record ends, a field quoted exactly when it holds a comma, quote, CR or LF, and no ragged rows") {
    engine::CsvTable t({"name", "value"});
    t.add_row({"plain", "1.5"});
    t.add_row({"a,b", "say \"hi\""});
    t.add_row({"two\nlines", "cr\rhere"});
    t.add_row({"", " spaced "});
    CHECK(t.rows() == 4);
    CHECK(t.text() == "name,value\r\nplain,1.5\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",\"cr\rhere\"\r\n, spaced \r\n");
    CHECK_THROWS_WITH_AS(t.add_row({"only one"}), "CsvTable: a row of 1 fields in a table of 2 columns (first column 'name')", std::logic_error);
    CHECK(t.rows() == 4);
    CHECK(engine::csv_field("x") == "x");
    CHECK(engine::csv_field("\"") == "\"\"\"\"");
}

TEST_CASE("to_block_text writes block YAML that loads back to the same tree, types kept") {
    const std::string text =
        "name: \"true\"\nflag: true\nn: -3\nneg_list: [-1, 2]\ncolon: \"a: b\"\nempty_map: {}\nempty_list: []\nnothing: null\n"
        "units: [{name: mac, count: 4, params: {figures: [{macs: 16, area: 1.5}]}}, {name: dma}]\nnested: [[1, 2], [3]]\n";
    config::Diagnostics diags;
    const config::Node n = config::load_string(text, "t.yaml", diags);
    REQUIRE(diags.empty());
    const std::string block = config::to_block_text(n);
    CHECK(block ==
          "name: \"true\"\nflag: true\nn: -3\nneg_list: [-1, 2]\ncolon: \"a: b\"\nempty_map: {}\nempty_list: []\nnothing: null\nunits:\n"
          "  - name: mac\n    count: 4\n    params:\n      figures:\n        - macs: 16\n          area: 1.5\n  - name: dma\nnested:\n  - [1, 2]\n  - [3]\n");
    const config::Node back = config::load_string(block, "block.yaml", diags);
    REQUIRE(diags.empty());
    CHECK(config::to_flow_text(back) == config::to_flow_text(n));
    CHECK(back.find("name")->quoted);
    CHECK(!back.find("flag")->quoted);
    CHECK(!back.find("n")->quoted);
}

TEST_CASE("ProgressReporter: one line format for every long run, with the elapsed time and the time left") {
    engine::ProgressReporter quiet(true, "[1/2] ");
    const std::string line = quiet.line("epoch 1/3", 0, 10);
    CHECK(line == "[1/2] epoch 1/3  elapsed 0:00  left ?");
    CHECK(quiet.line("x", 5, 0).rfind("[1/2] x  elapsed 0:00  left ~0:00", 0) == 0);
    CHECK(engine::clock_text(59.4) == "0:59");
    CHECK(engine::clock_text(3725) == "1:02:05");
}
