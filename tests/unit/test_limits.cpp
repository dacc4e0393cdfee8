// Bounded resources for every input (docs/errors.md, "Input files" and "limit"): each limit is
// checked before the work it guards, and each class of bad input that used to crash, hang, grow
// memory without end or give a wrong answer is pinned here by its exact message.
//
// Inputs that could block (a FIFO) or grow without end (/dev/zero, huge models) run through the
// real CLI under `timeout` and a 4 GB address-space limit, so that a regression fails the test
// instead of hanging CI or exhausting the machine.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/node.hpp"
#include "test_support.hpp"
#include "transcode/errors.hpp"
#include "transcode/input_file.hpp"

using namespace transcode;
namespace fs = std::filesystem;

namespace {

const fs::path source_dir = TRANSCODE_SOURCE_DIR;

// In the sanitizer build (scripts/test-sanitize.sh) the CLI is instrumented too: AddressSanitizer
// reserves terabytes of address space for its shadow memory, so an address-space limit stops it
// from starting, and it runs several times slower.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

// The real CLI, bounded: 20 s and 4 GB of address space (sanitizer build: 120 s, and ASan's own
// allocator limits instead of the address-space limit).
test::CliResult bounded_cli(const std::string& args) {
    if (sanitized) return test::run_shell(fmt::format("timeout 120 '{}' {}", TRANSCODE_CLI, args));
    return test::run_shell(fmt::format("ulimit -v 4000000; timeout 20 '{}' {}", TRANSCODE_CLI, args));
}

bool contains(const std::string& text, const std::string& part) {
    const bool found = text.find(part) != std::string::npos;
    if (!found) MESSAGE("looked for: " << part << "\nin: " << text);
    return found;
}

std::string load_errors(const fs::path& file) {
    config::Diagnostics diags;
    (void)config::load_file(file, diags);
    return diags.format();
}

fs::path make_fifo(const test::TempDir& dir, const std::string& name) {
    const fs::path p = dir.path() / name;
    REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
    return p;
}

}  // namespace

TEST_CASE("limits: an include chain longer than 32 files is a located limit error, not a stack overflow") {
    // Before: each file of the chain took stack (load, parse, resolve_includes), and a chain of a
    // few thousand files ended in SIGSEGV; now the chain stops at file 33 however long it is.
    test::TempDir dir;
    const int files = 100;
    for (int i = 0; i < files; ++i)
        dir.write(fmt::format("c{}.yaml", i), i + 1 < files ? fmt::format("include: c{}.yaml\nv{}: 1\n", i + 1, i) : "last: 1\n");
    CHECK(load_errors(dir.path() / "c0.yaml") ==
          fmt::format("{}:1:10: error: include: included file 'c32.yaml' would be file 33 of one chain of includes; a chain holds at most 32 files (limit)",
                      (dir.path() / "c31.yaml").string()));

    // A chain of exactly 32 files loads, every file's keys merged.
    test::TempDir ok;
    for (int i = 0; i < 32; ++i) ok.write(fmt::format("c{}.yaml", i), i + 1 < 32 ? fmt::format("include: c{}.yaml\nv{}: 1\n", i + 1, i) : "v31: 1\n");
    config::Diagnostics diags;
    const config::Node root = config::load_file(ok.path() / "c0.yaml", diags);
    CHECK(diags.empty());
    CHECK(root.fields.size() == 32);
}

TEST_CASE("includes: a file included several times is parsed once per load, and each use still counts against the limits") {
    test::TempDir dir;
    // Each use gets the file as it is, whatever an earlier use overrode.
    dir.write("h.yaml", "h: 1\n");
    dir.write("g.yaml", "include: h.yaml\ng: 1\n");
    dir.write("f.yaml", "include: g.yaml\nf: 1\n");
    const fs::path uses = dir.write("uses.yaml", "a: {include: f.yaml, x: 1}\nb: {include: f.yaml, f: 2, h: 3}\nc: {include: f.yaml}\n");
    config::Diagnostics diags;
    const config::Node root = config::load_file(uses, diags);
    CHECK(diags.empty());
    for (const auto& [path, value] : std::vector<std::pair<std::string, std::string>>{
             {"a.f", "1"}, {"a.g", "1"}, {"a.h", "1"}, {"a.x", "1"}, {"b.f", "2"}, {"b.g", "1"}, {"b.h", "3"}, {"c.f", "1"}, {"c.h", "1"}}) {
        CAPTURE(path);
        const config::Node* n = config::find_path(root, path);
        REQUIRE(n != nullptr);
        CHECK(n->scalar == value);
    }
    CHECK(config::find_path(root, "c.x") == nullptr);
    CHECK(config::find_path(root, "b.h")->where.file == uses.string());  // an override keeps its own location
    CHECK(config::find_path(root, "c.h")->where.file == (dir.path() / "h.yaml").string());

    // The value budget: 60,002 values included twice cross 100,000 in the second use, at the same
    // value as when every use was parsed. The top file is 5 values (its map, a, a.include, b,
    // b.include); the second use starts at value 60,008, so item 39,991 of its list is value 100,001.
    std::string list = "l: [";
    for (int i = 0; i < 60000; ++i) list += "1,";
    list += "]\n";
    const fs::path part = dir.write("part.yaml", list);
    const fs::path twice = dir.write("twice.yaml", "a: {include: part.yaml}\nb: {include: part.yaml}\n");
    CHECK(load_errors(twice) == part.string() + ":1:79987: error: l[39991]: the document holds more than 100000 values (each use of an alias counts in full) (limit)");

    // The include chain: f.yaml (3 files deep) used first near the top, then as file 32 of a chain,
    // where its include of g.yaml would be file 33.
    for (int i = 0; i < 30; ++i) dir.write(fmt::format("d{}.yaml", i), i + 1 < 30 ? fmt::format("include: d{}.yaml\n", i + 1) : "include: f.yaml\n");
    const fs::path deep = dir.write("deep.yaml", "a: {include: f.yaml}\nb: {include: d0.yaml}\n");
    CHECK(load_errors(deep) ==
          (dir.path() / "f.yaml").string() +
              ":1:10: error: include: included file 'g.yaml' would be file 33 of one chain of includes; a chain holds at most 32 files (limit)");

    // A file with an error is reported at each use, as before.
    const fs::path bad = dir.write("bad.yaml", "k: 1\nk: 2\n");
    const fs::path bad_uses = dir.write("bad-uses.yaml", "a: {include: bad.yaml}\nb: {include: bad.yaml}\n");
    CHECK(load_errors(bad_uses) == fmt::format("{0}:2:1: error: k: duplicate key 'k' (duplicate-key)\n{0}:2:1: error: k: duplicate key 'k' (duplicate-key)", bad.string()));
}

TEST_CASE("limits: a configuration file over 16 MiB is refused by its size before it is read, also when included") {
    test::TempDir dir;
    const fs::path big = dir.write("big.yaml", "a: 1\n");
    fs::resize_file(big, (std::uintmax_t{17} << 20));  // sparse: no 17 MiB written
    CHECK(load_errors(big) == big.string() + ":1:1: error: (document): the file is 17 MiB, more than the limit of 16 MiB for a configuration file (limit)");
    const fs::path top = dir.write("top.yaml", "m:\n  include: big.yaml\n");
    CHECK(load_errors(top) == top.string() + ":2:12: error: m.include: included file 'big.yaml' is 17 MiB, more than the limit of 16 MiB (limit)");
    // One byte past the limit is refused too, and the size is shown as it is.
    fs::resize_file(big, (std::uintmax_t{16} << 20) + 1);
    CHECK(load_errors(big) == big.string() + ":1:1: error: (document): the file is 16.0 MiB (16777217 bytes), more than the limit of 16 MiB for a configuration file (limit)");
}

TEST_CASE("limits: a document of more than 100000 values is refused before yaml-cpp builds its tree") {
    // Before: YAML::Load built yaml-cpp's whole tree first (a 50 MB list took 3.3 GB, then
    // bad_alloc); the budget applied only when the tree was converted.
    std::string text = "a: [";
    for (int i = 0; i < 1000000; ++i) text += "1,";
    text += "1]\n";
    config::Diagnostics diags;
    (void)config::load_string(text, "in.yaml", diags);
    // The root map is value 1, the list value 2, item k value k + 3: item 99998 is value 100001,
    // at column 5 + 2 x 99998.
    CHECK(diags.format() == "in.yaml:1:200001: error: (document): the document holds more than 100000 values (limit)");
    // Map keys are not values: 19000 maps of 4 keys are 1 + 1 + 19000 + 76000 = 95002 values
    // (171002 scalars and collections with the keys), within the budget, as before.
    std::string maps = "a: [";
    for (int i = 0; i < 19000; ++i) maps += "{a: 1, b: 2, c: 3, d: 4},";
    maps += "]\n";
    config::Diagnostics ok;
    const config::Node root = config::load_string(maps, "in.yaml", ok);
    CHECK(ok.empty());
    REQUIRE(root.fields.size() == 1);
    CHECK(root.fields[0].second.items.size() == 19000);
    // The same bound on a --set value.
    config::Node target;
    config::Diagnostics set_diags;
    config::apply_override(target, "a=" + text.substr(3), set_diags);
    // The list is value 1 here, item k value k + 2: item 99999, at column 3 + 1 + 2 x 99999.
    CHECK(set_diags.format() == "--set:1:200002: error: a: the document holds more than 100000 values (limit)");
}

TEST_CASE("limits: input_file_problem names what a path is, and read_input_file stops at the limit") {
    test::TempDir dir;
    CHECK(input_file_problem(dir.path() / "none.yaml", 100) == "not found");
    CHECK(input_file_problem(dir.path(), 100) == "is a directory, not a regular file");
    CHECK(input_file_problem("/dev/zero", 100) == "is a character device, not a regular file");
    CHECK(input_file_problem(make_fifo(dir, "f"), 100) == "is a FIFO (named pipe), not a regular file");
    const fs::path small = dir.write("small.txt", "12345");
    CHECK(input_file_problem(small, 5).empty());
    CHECK(input_file_problem(small, 4) == "is 5 bytes, more than the limit of 4 bytes");
    std::string text;
    CHECK(read_input_file(small, 5, text).empty());
    CHECK(text == "12345");
    CHECK(read_input_file(small, 4, text) == "is 5 bytes, more than the limit of 4 bytes");
    CHECK(text.empty());
    CHECK(is_size_problem("is 5 bytes, more than the limit of 4 bytes"));
    CHECK_FALSE(is_size_problem("is a FIFO (named pipe), not a regular file"));
}

TEST_CASE("limits: a FIFO, a device or a directory named as a config file is refused, saying what it is") {
    // Before: reading a FIFO blocked for ever and /dev/zero grew memory without end.
    test::TempDir dir;
    const fs::path fifo = make_fifo(dir, "fifo.yaml");
    auto r = bounded_cli("validate " + fifo.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, fifo.string() + ":1:1: error: (document): the file is a FIFO (named pipe), not a regular file (file)"));
    r = bounded_cli("validate /dev/zero");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "/dev/zero:1:1: error: (document): the file is a character device, not a regular file (file)"));
    const fs::path top = dir.write("top.yaml", "name: m\nfamily: flexibert\nparams:\n  include: fifo.yaml\n");
    r = bounded_cli("validate " + top.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, top.string() + ":4:12: error: params.include: included file 'fifo.yaml' is a FIFO (named pipe), not a regular file (include)"));
    // A sparsity profile, and a design space's base.
    const std::string sim = "simulate -q --model " + (source_dir / "configs/models/bert-tiny.yaml").string() + " --accelerator " +
                            (source_dir / "configs/accelerators/acceltran-edge.yaml").string() + " --out " + (dir.path() / "out").string();
    r = bounded_cli(sim + " --set simulation.sparsity_profile=" + fifo.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "simulation.sparsity_profile: sparsity profile '" + fifo.string() + "' is a FIFO (named pipe), not a regular file (file)"));
    r = bounded_cli(sim + " --set simulation.sparsity_profile=/dev/zero");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "simulation.sparsity_profile: sparsity profile '/dev/zero' is a character device, not a regular file (file)"));
    const fs::path space = dir.write("space.yaml", "name: s\ntarget: model\nbase: /dev/zero\nknobs: {layers: [1]}\n");
    r = bounded_cli("validate " + space.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, space.string() + ":3:7: error: base: base file '/dev/zero' is a character device, not a regular file (file)"));
}

TEST_CASE("limits: a FIFO, a device or a directory named as a data file, vocabulary, accuracy table or checkpoint is refused, saying what it is") {
    test::TempDir dir;
    const fs::path fifo = make_fifo(dir, "fifo.tsv");
    const std::string train = "validate " + (source_dir / "configs/experiments/bert-tiny-train.yaml").string() + " --set data.source=tsv";
    const fs::path good = dir.write("good.tsv", "1\tgood movie\n0\tbad movie\n");
    auto r = bounded_cli(train + " --set data.train=" + fifo.string() + " --set data.validation=" + good.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "data.train: data file '" + fifo.string() + "' is a FIFO (named pipe), not a regular file (looked for " + fifo.string() + ") (file)"));
    r = bounded_cli(train + " --set data.train=" + good.string() + " --set data.validation=" + dir.path().string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "data.validation: data file '" + dir.path().string() + "' is a directory, not a regular file (looked for " + dir.path().string() +
                                 ") (file)"));
    r = bounded_cli(train + " --set training.resume_from=" + fifo.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "training.resume_from: checkpoint '" + fifo.string() + "' is a FIFO (named pipe), not a regular file (file)"));
    // The readers themselves, for the commands that take a file directly.
    r = bounded_cli("tokenize --vocabulary " + fifo.string() + " hello");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, fifo.string() + ": error: the vocabulary file is a FIFO (named pipe), not a regular file (file)"));
    r = bounded_cli("tokenize --vocabulary /dev/zero hello");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "/dev/zero: error: the vocabulary file is a character device, not a regular file (file)"));
    r = bounded_cli("accuracy fit --report --csv " + fifo.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "error: accuracy surrogate: '" + fifo.string() + "' is a FIFO (named pipe), not a regular file"));
    r = bounded_cli("accuracy fit --report --csv /dev/zero");
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, "error: accuracy surrogate: '/dev/zero' is a character device, not a regular file"));
}

TEST_CASE("limits: design-space knobs with too many values, a count above 1024, or too many values once expanded are located errors") {
    // Before: a heterogeneous space built one knob per layer, head and stack before the model
    // family's range check ran, so `layers: [1000000000]` spent time and memory in proportion.
    test::TempDir dir;
    const std::string base = (source_dir / "configs/models/bert-tiny-task.yaml").string();
    auto space = [&](const std::string& knobs) {
        return dir.write("space.yaml", "name: s\ntarget: model\nbase: " + base + "\nheterogeneous: true\nknobs:\n" + knobs);
    };
    const std::string rest = "  hidden: [64]\n  heads: [2]\n  head_ops: [sa-sdp]\n  ff_stacks: [1]\n  ff_hidden: [256]\n";
    fs::path p = space("  layers: [1, 1000000000]\n" + rest);
    auto r = bounded_cli("validate " + p.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, p.string() + ":6:15: error: knobs.layers[1]: count 1000000000 is above the limit of 1024 (limit)"));

    std::string many = "  hidden: [";
    for (int i = 1; i <= 1025; ++i) many += fmt::format("{}{}", i > 1 ? ", " : "", 64 * i);
    many += "]\n";
    p = space("  layers: [1]\n" + many + "  heads: [2]\n  head_ops: [sa-sdp]\n  ff_stacks: [1]\n  ff_hidden: [256]\n");
    r = bounded_cli("validate " + p.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, p.string() + ":7:11: error: knobs.hidden: the knob lists 1025 values; a knob lists at most 1024 (limit)"));

    // 1 + 1024 x (1 + 1 + 1 + 1024 x 7 + 1 x 1) = 7,344,129 values once expanded.
    p = space("  layers: [1024]\n  hidden: [64]\n  heads: [1024]\n  head_ops: [sa-sdp, sa-wma, l-dft, l-dct, c-5, c-9, c-13]\n  ff_stacks: [1]\n  ff_hidden: [256]\n");
    r = bounded_cli("validate " + p.string());
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, p.string() +
                                 ":6:3: error: knobs: a heterogeneous space of up to 1024 layers, 1024 heads and 1 ff_stacks has 7344129 knob values in all (a knob per "
                                 "layer, head and stack), more than the limit of 100000; lower the counts, list fewer values, or set heterogeneous: false (limit)"));
}

TEST_CASE("limits: a model too large to count is a located config error at both fidelities, not a hang or an internal error") {
    // Before: batch 10^12 and hidden 2^31 - 1 passed validation and the event simulation spun for
    // minutes; vocab_size 2^63 - 1 in training ended in `internal error: GroupedTilePool::dispatch:
    // tiles and cycles must be >= 1`, and in inference reported a result with status ok.
    test::TempDir dir;
    const std::string model = (source_dir / "configs/models/bert-tiny.yaml").string();
    const std::string sim = "simulate -q --model " + model + " --accelerator " + (source_dir / "configs/accelerators/acceltran-edge.yaml").string() +
                            " --out " + (dir.path() / "out").string();
    const std::string at = model + ":5:3: error: model.params: model 'bert-tiny' is too large to simulate: ";
    for (const char* fidelity : {"event", "analytic"}) {
        CAPTURE(fidelity);
        const std::string f = std::string(" --fidelity ") + fidelity;
        auto r = bounded_cli(sim + f + " --set model.params.batch_size=1000000000000");
        CHECK(r.exit_code == 2);
        CHECK(contains(r.output, at + "tensor 'input_ids' [1000000000000,128] has 1.28e+14 elements, more than the limit of 2^40 (1.1e+12) per tensor (limit)"));
        r = bounded_cli(sim + f + " --mode training --set model.params.vocab_size=9223372036854775807");
        CHECK(r.exit_code == 2);
        CHECK(contains(r.output, at + "tensor 'embeddings.token.table' [9223372036854775807,128] has 1.18e+21 elements, more than the limit of 2^40 (1.1e+12) per tensor (limit)"));
        CHECK(r.output.find("internal error") == std::string::npos);
    }
}

TEST_CASE("limits: more tile waves than the event fidelity schedules make the pair infeasible with the reason, and analytic simulates it") {
    // Before: a feed-forward of 2^31 (activations of 2^40 elements, at the tensor limit) spun for minutes at
    // event fidelity; analytic answers in a second.
    test::TempDir dir;
    const fs::path model = dir.write("m.yaml", "name: wide\nfamily: flexibert\nparams: {layers: 1, hidden: [128], heads: [[sa-sdp, sa-sdp]], ff: [[2147483648]]}\n");
    const std::string sim = "simulate -q --model " + model.string() + " --accelerator " + (source_dir / "configs/accelerators/acceltran-edge.yaml").string();
    auto r = bounded_cli(sim + " --out " + (dir.path() / "event").string());
    REQUIRE(r.exit_code == 0);
    auto doc = nlohmann::json::parse(test::read_file(dir.path() / "event" / "results.json"));
    CHECK(doc["status"] == "infeasible");
    CHECK(doc["reason"] == "the event fidelity would schedule 7.55e+07 waves of tiles, more than the limit of 2^25 (3.36e+07); the analytic fidelity "
                           "simulates it (is the model absurdly sized?)");
    r = bounded_cli(sim + " --fidelity analytic --out " + (dir.path() / "analytic").string());
    REQUIRE(r.exit_code == 0);
    doc = nlohmann::json::parse(test::read_file(dir.path() / "analytic" / "results.json"));
    CHECK(doc["status"] == "ok");
}

TEST_CASE("limits: in co-design, a candidate too large to simulate is stored as infeasible with the reason, and the search goes on") {
    // Before: such a candidate hung the search at event fidelity. Here ff_hidden 2^30 passes the
    // design-space check (with the other knobs at their first values the model is within the
    // limits), but combined it is either too large (4 layers of hidden 256: 2^41 parameters) or
    // has more tile waves than the event fidelity schedules.
    test::TempDir dir;
    const std::string file = source_dir.string() + "/tests/fixtures/codesign/small-joint.yaml";
    const auto r = bounded_cli("run " + file + " --quiet --set simulation.fidelity=event --set \"space.model.knobs.ff_hidden=[512, 1073741824]\" --out " +
                               dir.path().string());
    CHECK(r.exit_code == 0);
    CAPTURE(r.output);
    const std::string reasons =
        test::run_shell("sqlite3 '" + (dir.path() / "search.db").string() + "' \"select distinct reason from evaluations where status = 'infeasible' order by reason\"")
            .output;
    CHECK(contains(reasons, "model.params: model 'bert-tiny' is too large to simulate: the model has 2.2e+12 parameters, more than the limit of 2^40 (1.1e+12)"));
    CHECK(contains(reasons, "the event fidelity would schedule "));
    CHECK(contains(reasons, "waves of tiles, more than the limit of 2^25 (3.36e+07); the analytic fidelity simulates it (is the model absurdly sized?)"));
    const std::string feasible =
        test::run_shell("sqlite3 '" + (dir.path() / "search.db").string() + "' \"select count(*) > 0 from evaluations where status = 'ok'\"").output;
    CHECK(feasible == "1\n");
}
