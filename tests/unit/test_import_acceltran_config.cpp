// `transcode import acceltran-config`: AccelTran accelerator configs to accelerator YAML.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/node.hpp"
#include "experiment/experiment.hpp"
#include "hardware/accelerator.hpp"
#include "importers/acceltran_config.hpp"
#include "model/model_file.hpp"
#include "report/results.hpp"
#include "simulator/simulator.hpp"
#include "test_support.hpp"
#include "transcode/errors.hpp"

using namespace transcode;
using test::TempDir;

namespace {

const std::string fixtures = TRANSCODE_TEST_FIXTURES;
const std::string source_dir = TRANSCODE_SOURCE_DIR;

// An accelerator YAML text as a tree, with its `include:` keys renamed so that they stay values
// and the figure files of configs/components/ need not exist; structure() also drops the name and
// description (comments are never part of the tree).
config::Node parse(std::string text) {
    for (std::size_t p = 0; (p = text.find("include:", p)) != std::string::npos; p += 13) text.replace(p, 8, "include_file:");
    config::Diagnostics d;
    config::Node n = config::load_string(text, "imported", d);
    CHECK(d.format() == "");
    return n;
}

config::Node structure(const std::string& text) {
    config::Node n = parse(text);
    for (const char* drop : {"name", "description"})
        for (std::size_t i = 0; i < n.fields.size(); ++i)
            if (n.fields[i].first == drop) {
                n.fields.erase(n.fields.begin() + static_cast<std::ptrdiff_t>(i));
                n.key_locations.erase(n.key_locations.begin() + static_cast<std::ptrdiff_t>(i));
            }
    return n;
}

// The first difference between two trees ("" when equal): maps compare key by key in any order,
// lists in order, scalars by their text.
std::string difference(const config::Node& a, const config::Node& b, const std::string& path) {
    if (a.kind != b.kind) return path + ": a " + a.kind_name() + " against a " + b.kind_name();
    switch (a.kind) {
        case config::Node::Kind::null: return "";
        case config::Node::Kind::scalar: return a.scalar == b.scalar ? "" : path + ": '" + a.scalar + "' against '" + b.scalar + "'";
        case config::Node::Kind::sequence:
            if (a.items.size() != b.items.size()) return path + ": " + std::to_string(a.items.size()) + " items against " + std::to_string(b.items.size());
            for (std::size_t i = 0; i < a.items.size(); ++i)
                if (auto d = difference(a.items[i], b.items[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
            return "";
        case config::Node::Kind::map:
            for (const auto& [k, v] : b.fields)
                if (a.find(k) == nullptr) return path + "." + k + ": missing from the first";
            for (const auto& [k, v] : a.fields) {
                const config::Node* w = b.find(k);
                if (w == nullptr) return path + "." + k + ": missing from the second";
                if (auto d = difference(v, *w, path + "." + k); !d.empty()) return d;
            }
            return "";
    }
    return "";
}

std::string import_text(const std::string& file, const std::string& name = "", const engine::ComponentIncludes& includes = {}) {
    std::vector<std::string> notes;
    return engine::import_acceltran_config(file, name, notes, includes);
}

// The first difference between two loaded accelerators ("" when equal): every figure the
// simulator reads, unit by unit, and the validated params (the figure rows included); not the
// units' YAML paths, which an experiment prefixes with `accelerator.`.
std::string difference(const engine::Accelerator& a, const engine::Accelerator& b) {
    if (a.name != b.name || a.clock_hz != b.clock_hz || a.data_bits != b.data_bits || a.tile_b != b.tile_b || a.tile_x != b.tile_x ||
        a.tile_y != b.tile_y || a.power_gating != b.power_gating || a.pes != b.pes)
        return "the accelerator's own fields";
    if (a.units.size() != b.units.size()) return std::to_string(a.units.size()) + " units against " + std::to_string(b.units.size());
    for (std::size_t i = 0; i < a.units.size(); ++i) {
        const engine::UnitGroup &u = a.units[i], &v = b.units[i];
        if (u.name != v.name || u.info->name != v.info->name || u.count != v.count || u.per_pe != v.per_pe ||
            u.area_mm2 != v.area_mm2 || u.leakage_w != v.leakage_w || u.dynamic_w != v.dynamic_w || u.executes != v.executes ||
            u.storage.capacity_bytes != v.storage.capacity_bytes || u.storage.read_bandwidth_bytes_per_s != v.storage.read_bandwidth_bytes_per_s ||
            u.storage.write_bandwidth_bytes_per_s != v.storage.write_bandwidth_bytes_per_s || u.storage.latency_s != v.storage.latency_s ||
            u.storage.energy_per_byte_j != v.storage.energy_per_byte_j ||
            engine::to_json(Value{u.params.values()}) != engine::to_json(Value{v.params.values()}))
            return "unit " + u.name;
    }
    return "";
}

// A BERT-Tiny inference step's figures on `acc`.
engine::SimulationResult bert_tiny_inference(const engine::Accelerator& acc) {
    const auto m = engine::load_model_file(source_dir + "/configs/models/bert-tiny.yaml", {}, test::builtin_plugins());
    engine::SimulationOptions o;
    o.training = false;
    return engine::simulate(m.forward, acc, o);
}

// The diagnostics of importing `text` (written to `name` in `dir`), or "(imported)".
std::string errors(const TempDir& dir, const std::string& name, const std::string& text) {
    const auto f = dir.write(name, text);
    try {
        (void)import_text(f.string());
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(imported)";
}

}  // namespace

TEST_CASE("import acceltran-config: AccelTran-Edge and -Server give the shipped accelerator files") {
    const std::pair<const char*, const char*> cases[] = {{"edge_config.yaml", "acceltran-edge.yaml"}, {"server_config.json", "acceltran-server.yaml"}};
    for (const auto& [input, shipped] : cases) {
        CAPTURE(input);
        const std::string ours = import_text(fixtures + "/acceltran/" + input);
        const std::string theirs = test::read_file(source_dir + "/configs/accelerators/" + shipped);
        REQUIRE_FALSE(theirs.empty());
        CHECK(difference(structure(ours), structure(theirs), "") == "");
        CHECK(ours.find("# AccelTran batch_size: 4 (set the model's params.batch_size to match, e.g. with --experiment-out)\n") != std::string::npos);
        CHECK(ours.find("# Save this under configs/accelerators/ so that the includes resolve") != std::string::npos);
    }
    // The name is the file's stem unless given.
    CHECK(parse(import_text(fixtures + "/acceltran/edge_config.yaml")).find("name")->scalar == "edge_config");
    CHECK(parse(import_text(fixtures + "/acceltran/edge_config.yaml", "my edge")).find("name")->scalar == "my edge");
    CHECK(parse(import_text(fixtures + "/acceltran/edge_config.yaml", "a: \"b\"\n# c")).find("name")->scalar == "a: \"b\"\n# c");
}

TEST_CASE("import acceltran-config: fields transcode does not use are ignored with a located note") {
    const std::string edge = fixtures + "/acceltran/edge_config.yaml";
    std::vector<std::string> notes;
    (void)engine::import_acceltran_config(edge, "", notes);
    CHECK(notes == std::vector<std::string>{"note: " + edge + ":28:1: ignoring field 'loop_unrolling' (not used by transcode)",
                                            "note: " + edge + ":37:1: ignoring field 'scheduler' (not used by transcode)"});
    // Unknown fields of the nested maps too, and notes survive a failed import.
    TempDir dir;
    const auto f = dir.write("nested.yaml", "tile: {tile_b: 1, tile_x: 16, tile_y: 16, tile_z: 4}\nmain_memory: {type: dram, mode: lb, banks: 1, ranks: 1, channels: 1, "
                                            "energy: 3}\nclock_frequency: 700\n");
    notes.clear();
    CHECK_THROWS_AS((void)engine::import_acceltran_config(f, "", notes), ConfigError);
    CHECK(notes == std::vector<std::string>{"note: " + f.string() + ":1:43: ignoring field 'tile.tile_z' (not used by transcode)",
                                            "note: " + f.string() + ":2:70: ignoring field 'main_memory.energy' (not used by transcode)",
                                            "note: " + f.string() + ":3:1: ignoring field 'clock_frequency' (not used by transcode)"});
}

TEST_CASE("import acceltran-config: on the command line, YAML goes to stdout, notes to stderr, --name names it") {
    const std::string edge = fixtures + "/acceltran/edge_config.yaml";
    const auto all = test::run_cli("import acceltran-config " + edge + " --name edge-imported");
    CHECK(all.exit_code == 0);
    CHECK(all.output.find("note: " + edge + ":28:1: ignoring field 'loop_unrolling' (not used by transcode)\n") != std::string::npos);
    // Only stdout (the pipe's exit code is cat's, hence the run above).
    const auto out = test::run_cli("import acceltran-config " + edge + " --name edge-imported 2>/dev/null | cat");
    const auto here = engine::component_includes(source_dir + "/configs/components", std::filesystem::current_path(), true);
    CHECK(out.output == import_text(edge, "edge-imported", here));
    CHECK(out.output.find("name: \"edge-imported\"\n") != std::string::npos);
    TempDir dir;
    const auto bad = dir.write("bad.yaml", "pe: 0\nextra: 1\n");
    const auto r = test::run_cli("import acceltran-config " + bad.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("note: " + bad.string() + ":2:1: ignoring field 'extra' (not used by transcode)\n") != std::string::npos);
    CHECK(r.output.find(bad.string() + ":1:5: error: pe: expected a positive integer (the number of processing elements), got '0' (import)") !=
          std::string::npos);
}

TEST_CASE("import acceltran-config: spellings of the memory mode and type, relu, x != y tiles, fractional buffers") {
    TempDir dir;
    const std::string base =
        "tile: {tile_b: 4, tile_x: 8, tile_y: 32}\nnon_linearity: relu\npe: +128\nlanes_per_pe: 64\nmac_per_lane: 1\nsoftmax_per_pe: 16\nbatch_size: 32\n"
        "activation_buffer_size: 0.5\nweight_buffer_size: 1.25e1\nmask_buffer_size: 2\n";
    const std::tuple<const char*, const char*, const char*, const char*> memories[] = {
        {"dram", "lb", "lpddr3", "low_bandwidth"},           {"hbm", "hb", "hbm", "high_bandwidth"},
        {"rram", "lbw", "rram", "low_bandwidth"},            {"rram", "hbw", "rram", "high_bandwidth"},
        {"'dram'", "low_bandwidth", "lpddr3", "low_bandwidth"}, {"\"hbm\"", "high_bandwidth", "hbm", "high_bandwidth"}};
    for (const auto& [type, mode, our_type, our_mode] : memories) {
        CAPTURE(type);
        CAPTURE(mode);
        const auto f = dir.write("c.yaml", base + "main_memory: {type: " + type + ", mode: " + mode + ", banks: 8, ranks: 2, channels: 4}\n");
        const config::Node n = parse(import_text(f.string()));
        const config::Node* mm = config::find_path(n, "units[3].params");
        REQUIRE(mm != nullptr);
        CHECK(mm->find("type")->scalar == our_type);
        CHECK(mm->find("mode")->scalar == our_mode);
        CHECK(mm->find("banks")->scalar == "8");
        CHECK(mm->find("channels")->scalar == "4");
        CHECK(config::find_path(n, "tile.b")->scalar == "4");
        CHECK(config::find_path(n, "tile.x")->scalar == "8");
        CHECK(config::find_path(n, "tile.y")->scalar == "32");
        CHECK(config::find_path(n, "processing_elements.count")->scalar == "128");
        CHECK(config::find_path(n, "processing_elements.units[0].params.activation")->scalar == "relu");
        CHECK(config::find_path(n, "processing_elements.units[0].params.macs")->scalar == "1");
        CHECK(config::find_path(n, "processing_elements.units[1].count")->scalar == "16");
        CHECK(config::find_path(n, "processing_elements.units[1].params.tile")->scalar == "8");  // the module tile: tile_x
        CHECK(config::find_path(n, "processing_elements.units[2].params.tile")->scalar == "8");
        CHECK(config::find_path(n, "processing_elements.units[6].count")->scalar == "64");
        CHECK(config::find_path(n, "units[0].params.size_mb")->scalar == "0.5");
        CHECK(config::find_path(n, "units[1].params.size_mb")->scalar == "12.5");
        CHECK(config::find_path(n, "units[2].params.size_mb")->scalar == "2");
    }
}

TEST_CASE("import acceltran-config: bad configs are located errors with hints") {
    TempDir dir;
    const std::string d = dir.path().string() + "/";
    CHECK(errors(dir, "bad.yaml",
                 "tile: {tile_b: 0, tile_x: abc}\n"
                 "non_linearity: relu6\n"
                 "pe: \"64\"\n"
                 "lane_per_pe: 16\n"
                 "mac_per_lane: 8\n"
                 "softmax_per_pe: -2\n"
                 "batch_size:\n"
                 "activation_buffer_size: -4\n"
                 "weight_buffer_size: .inf\n"
                 "mask_buffer_size: [1]\n"
                 "main_memory: {type: ddr, mode: medium, banks: 32, ranks: 2.5, channel: 1}\n") ==
          d + "bad.yaml:1:1: error: lanes_per_pe: required key 'lanes_per_pe' is missing (the MAC lanes of each PE, e.g. lanes_per_pe: 16); "
              "is 'lane_per_pe' a misspelling of it? (import)\n" +
              d + "bad.yaml:1:7: error: tile.tile_y: required key 'tile_y' is missing (the tile's y dimension, e.g. tile_y: 16) (import)\n" + d +
              "bad.yaml:1:16: error: tile.tile_b: expected a positive integer (the tile's batch dimension), got '0' (import)\n" + d +
              "bad.yaml:1:27: error: tile.tile_x: expected a positive integer (the tile's x dimension), got 'abc' (import)\n" + d +
              "bad.yaml:2:16: error: non_linearity: unknown value 'relu6'; expected relu or gelu; did you mean 'relu'? (import)\n" + d +
              "bad.yaml:3:5: error: pe: expected a positive integer (the number of processing elements), got '64' (quoted, so a string: write "
              "numbers unquoted) (import)\n" +
              d + "bad.yaml:5:15: error: mac_per_lane: must be 1 or 16 (the MAC lane widths of AccelTran's design space), got 8 (import)\n" + d +
              "bad.yaml:6:17: error: softmax_per_pe: expected a positive integer (the softmax modules of each PE), got '-2' (import)\n" + d +
              "bad.yaml:7:1: error: batch_size: expected a positive integer (the batch size), got nothing (import)\n" + d +
              "bad.yaml:8:25: error: activation_buffer_size: expected a positive number of MB (the activation buffer's size), got '-4' (import)\n" + d +
              "bad.yaml:9:21: error: weight_buffer_size: expected a positive number of MB (the weight buffer's size), got '.inf' (import)\n" + d +
              "bad.yaml:10:19: error: mask_buffer_size: expected a positive number of MB (the mask buffer's size), got a list (import)\n" + d +
              "bad.yaml:11:14: error: main_memory.channels: required key 'channels' is missing (the number of channels, e.g. channels: 1); "
              "is 'channel' a misspelling of it? (import)\n" +
              d + "bad.yaml:11:21: error: main_memory.type: unknown value 'ddr'; expected dram, hbm or rram (import)\n" + d +
              "bad.yaml:11:32: error: main_memory.mode: unknown value 'medium'; expected lb or hb (also lbw, hbw, low_bandwidth, high_bandwidth) "
              "(import)\n" +
              d + "bad.yaml:11:58: error: main_memory.ranks: expected a positive integer (the number of ranks), got '2.5' (import)");
    // Enum values are case-sensitive, with a hint.
    CHECK(errors(dir, "case.yaml",
                 "tile: {tile_b: 1, tile_x: 16, tile_y: 16}\nnon_linearity: GELU\npe: 1\nlanes_per_pe: 1\nmac_per_lane: 1\nsoftmax_per_pe: 1\n"
                 "batch_size: 1\nactivation_buffer_size: 1\nweight_buffer_size: 1\nmask_buffer_size: 1\n"
                 "main_memory: {type: HBM, mode: HB, banks: 1, ranks: 1, channels: 1}\n") ==
          d + "case.yaml:2:16: error: non_linearity: unknown value 'GELU'; expected relu or gelu; did you mean 'gelu'? (import)\n" + d +
              "case.yaml:11:21: error: main_memory.type: unknown value 'HBM'; expected dram, hbm or rram; did you mean 'hbm'? (import)\n" + d +
              "case.yaml:11:32: error: main_memory.mode: unknown value 'HB'; expected lb or hb (also lbw, hbw, low_bandwidth, high_bandwidth); did you "
              "mean 'hb'? (import)");
    // Sections of the wrong kind, every missing field, AccelTran's older main_memory_config.
    CHECK(errors(dir, "shape.json", "{\"pe\": 64,\n \"tile\": 5, \"main_memory_config\": {\"rram\": {}}, \"non_linearity\": [\"gelu\"]}") ==
          d + "shape.json:1:1: error: lanes_per_pe: required key 'lanes_per_pe' is missing (the MAC lanes of each PE, e.g. lanes_per_pe: 16) (import)\n" + d +
              "shape.json:1:1: error: mac_per_lane: required key 'mac_per_lane' is missing (the MACs of each lane, e.g. mac_per_lane: 16) (import)\n" + d +
              "shape.json:1:1: error: softmax_per_pe: required key 'softmax_per_pe' is missing (the softmax modules of each PE, e.g. softmax_per_pe: 4) "
              "(import)\n" +
              d + "shape.json:1:1: error: batch_size: required key 'batch_size' is missing (the batch size, e.g. batch_size: 4) (import)\n" + d +
              "shape.json:1:1: error: activation_buffer_size: required key 'activation_buffer_size' is missing (the activation buffer's size in MB, "
              "e.g. activation_buffer_size: 4) (import)\n" +
              d + "shape.json:1:1: error: weight_buffer_size: required key 'weight_buffer_size' is missing (the weight buffer's size in MB, e.g. "
                  "weight_buffer_size: 8) (import)\n" +
              d + "shape.json:1:1: error: mask_buffer_size: required key 'mask_buffer_size' is missing (the mask buffer's size in MB, e.g. "
                  "mask_buffer_size: 1) (import)\n" +
              d + "shape.json:1:1: error: main_memory: required key 'main_memory' is missing (the main memory, e.g. main_memory: {type: dram, mode: lb, "
                  "banks: 32, ranks: 2, channels: 1}); the older form main_memory_config: {TYPE: {banks, ranks, channels}} is not read (import)\n" +
              d + "shape.json:2:10: error: tile: expected a map with tile_b, tile_x and tile_y, got '5' (import)\n" + d +
              "shape.json:2:66: error: non_linearity: expected relu or gelu, got a list (import)");
    // Not a config at all: a list, an empty file, a model dictionary, malformed JSON.
    const std::string doc = "expected an AccelTran accelerator config (a map with tile, non_linearity, pe, lanes_per_pe, mac_per_lane, softmax_per_pe, "
                            "batch_size, the three buffer sizes and main_memory), got ";
    CHECK(errors(dir, "list.yaml", "- 1\n- 2\n") == d + "list.yaml:1:1: error: (document): " + doc + "a list (import)");
    CHECK(errors(dir, "empty.yaml", "") == d + "empty.yaml:1:1: error: (document): " + doc + "nothing (import)");
    CHECK(errors(dir, "model.json", R"({"l": 1, "o": [["sa_sdp_64"]], "h": [128], "f": [[512]]})") ==
          d + "model.json:1:1: error: (document): this is an AccelTran model dictionary ({l, o, h, f}), not an accelerator config: use `transcode "
              "import acceltran-model` (import)");
    CHECK(errors(dir, "broken.json", "{\"pe\": 64,") == d + "broken.json:1:1: error: (document): malformed YAML: end of map flow not found (syntax)");
}

TEST_CASE("import acceltran-config: the includes lead to configs/components from the folder the file is written to") {
    const std::filesystem::path components = std::filesystem::path(source_dir) / "configs" / "components";
    // Beside the shipped accelerators: the shipped files' own includes.
    CHECK(engine::component_includes(components, std::filesystem::path(source_dir) / "configs" / "accelerators", false).folder == "../components");
    CHECK(engine::component_includes(components, components, false).folder == ".");
    // Anywhere else: the relative path from that folder (`..` and symbolic links resolved first).
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "a" / "b");
    const auto inc = engine::component_includes(components, dir.path() / "a" / "b" / ".." / "b", false);
    CHECK_FALSE(std::filesystem::path(inc.folder).is_absolute());
    CHECK(std::filesystem::equivalent(std::filesystem::canonical(dir.path() / "a" / "b") / inc.folder, components));
    std::filesystem::create_directory_symlink(dir.path() / "a" / "b", dir.path() / "link");
    const auto via_link = engine::component_includes(components, dir.path() / "link", false);
    CHECK(std::filesystem::equivalent(dir.path() / "link" / via_link.folder, components));
    // A folder name that plain YAML would misread is quoted.
    engine::ComponentIncludes odd;
    odd.folder = "my figures, #1";
    const config::Node n = parse(import_text(fixtures + "/acceltran/edge_config.yaml", "", odd));
    CHECK(config::find_path(n, "processing_elements.units[0].params.include_file")->scalar == "my figures, #1/acceltran-mac-lane.yaml");
    CHECK(config::find_path(n, "units[3].params.include_file")->scalar == "my figures, #1/memory.yaml");
}

TEST_CASE("import acceltran-config: written with -o outside configs/, the accelerator loads and equals the shipped one") {
    engine::PluginHost& host = test::builtin_plugins();
    const engine::Accelerator shipped = engine::load_accelerator_file(source_dir + "/configs/accelerators/acceltran-edge.yaml", {}, host);
    const std::string edge = fixtures + "/acceltran/edge_config.yaml";
    TempDir dir;
    std::filesystem::create_directories(dir.path() / "my" / "accelerators");
    const std::filesystem::path out = dir.path() / "my" / "accelerators" / "edge.yaml";
    const auto r = test::run_cli("import acceltran-config " + edge + " --name acceltran-edge -o " + out.string());
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("wrote " + out.string() + "\n") != std::string::npos);
    const std::string text = test::read_file(out);
    CHECK(text.find("# The includes lead to the component figures in ") != std::string::npos);
    CHECK(text.find("from this file's folder (") != std::string::npos);
    const engine::Accelerator imported = engine::load_accelerator_file(out, {}, host);
    CHECK(difference(imported, shipped) == "");
    const engine::SimulationResult a = bert_tiny_inference(imported), b = bert_tiny_inference(shipped);
    CHECK(a.cycles == b.cycles);
    CHECK(a.total_j() == b.total_j());
    CHECK(a.memory_read_bytes == b.memory_read_bytes);

    // Printed to stdout, the includes are relative to the current directory: saved there, it loads.
    const auto printed = test::run_shell("cd '" + dir.path().string() + "' && '" + TRANSCODE_CLI + "' import acceltran-config " + edge +
                                         " --name acceltran-edge 2>/dev/null > here.yaml");
    REQUIRE(printed.exit_code == 0);
    const std::string here = test::read_file(dir.path() / "here.yaml");
    CHECK(here.find("# from the folder this was printed in, " + std::filesystem::canonical(dir.path()).string() + ":\n") != std::string::npos);
    CHECK(difference(engine::load_accelerator_file(dir.path() / "here.yaml", {}, host), shipped) == "");

    // A folder that does not exist is an error, not a crash.
    const auto missing = test::run_cli("import acceltran-config " + edge + " -o " + (dir.path() / "nowhere" / "edge.yaml").string());
    CHECK(missing.exit_code == 2);
    CHECK(missing.output.find((dir.path() / "nowhere" / "edge.yaml").string() + ": cannot write (does the folder exist, and is it writable?)") !=
          std::string::npos);
}

TEST_CASE("import acceltran-config: the companion experiment runs the model at AccelTran's batch size") {
    TempDir dir;
    // AccelTran-Edge at batch 2 (BERT-Tiny's own batch_size is 4).
    std::string config = test::read_file(fixtures + "/acceltran/edge_config.yaml");
    const std::size_t at = config.find("batch_size: 4");
    REQUIRE(at != std::string::npos);
    config.replace(at, 13, "batch_size: 2");
    const auto input = dir.write("edge_b2.yaml", config);
    std::filesystem::create_directories(dir.path() / "hw");
    std::filesystem::create_directories(dir.path() / "runs");
    const std::filesystem::path acc_file = dir.path() / "hw" / "edge.yaml", exp_file = dir.path() / "runs" / "edge-bert-tiny.yaml";
    const std::string model = source_dir + "/configs/models/bert-tiny.yaml";
    const auto r = test::run_cli("import acceltran-config " + input.string() + " -o " + acc_file.string() + " --experiment-out " + exp_file.string() +
                                 " --model " + model);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("wrote " + exp_file.string() + " (experiment 'edge-bert-tiny': bert-tiny at batch size 2; run it with `transcode run " +
                        exp_file.string() + "`)\n") != std::string::npos);
    const std::string text = test::read_file(exp_file);
    CHECK(text.find("kind: simulate\nmode: inference\n") != std::string::npos);
    CHECK(text.find("accelerator:\n  include: ../hw/edge.yaml\n") != std::string::npos);
    CHECK(text.find("  batch_size: 2 ") != std::string::npos);

    // Loaded as `transcode run` loads it: the imported accelerator, the model at batch 2.
    const engine::Experiment ex = engine::load_experiment(exp_file, {}, test::builtin_plugins());
    REQUIRE(ex.model.has_value());
    REQUIRE(ex.accelerator.has_value());
    CHECK(ex.model->params.get_int("batch_size") == 2);
    CHECK(ex.accelerator->name == "edge_b2");
    CHECK(difference(*ex.accelerator, engine::load_accelerator_file(acc_file, {}, test::builtin_plugins())) == "");

    // And run: results.json records the batch.
    const auto run = test::run_cli("run " + exp_file.string() + " --out " + (dir.path() / "out").string() + " --quiet");
    REQUIRE(run.exit_code == 0);
    const auto results = nlohmann::json::parse(test::read_file(dir.path() / "out" / "results.json"));
    CHECK(results["status"] == "ok");
    CHECK(results["model"]["params"]["batch_size"] == 2);
    CHECK(results["accelerator"]["name"] == "edge_b2");
    CHECK(results["simulation"]["mode"] == "inference");

    // --experiment-out needs -o (the experiment includes the written file) and --model.
    const auto no_out = test::run_cli("import acceltran-config " + input.string() + " --experiment-out " + exp_file.string() + " --model " + model);
    CHECK(no_out.exit_code == 2);
    CHECK(no_out.output.find("--experiment-out requires --out") != std::string::npos);
    const auto no_model = test::run_cli("import acceltran-config " + input.string() + " -o " + acc_file.string() + " --experiment-out " + exp_file.string());
    CHECK(no_model.exit_code == 2);
    CHECK(no_model.output.find("--experiment-out requires --model") != std::string::npos);
}
