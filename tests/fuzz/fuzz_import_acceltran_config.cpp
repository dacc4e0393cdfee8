// fuzz_import_acceltran_config: bytes -> an AccelTran accelerator config (YAML or JSON) ->
// import_acceltran_config.
//
// The importer reads a file, so each input is written to a scratch file first. A ConfigError is
// the expected answer to a bad config; every note must be located like an error. An accepted
// config must give YAML that transcode reads back without a single diagnostic (its `include:`
// keys renamed: the figure files are not this target's concern), with exactly the top-level keys
// of an accelerator file and the input's numbers: tile, PE count, lanes (the MAC lanes and the
// four per-lane units alike), MACs per lane, softmax modules, and the main memory's geometry.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "config/node.hpp"
#include "fuzz_support.hpp"
#include "importers/acceltran_config.hpp"

using namespace transcode;
namespace fs = std::filesystem;

namespace {

const fs::path& scratch_file() { return fuzz::scratch_file("fuzz-import-config", "config.yaml"); }

// The integer a scalar node holds (the importer accepts a leading '+'); -1 when it holds none.
std::int64_t int_of(const config::Node* n) {
    if (n == nullptr || n->kind != config::Node::Kind::scalar) return -1;
    std::string_view s = n->scalar;
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty() ? v : -1;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    scratch_file();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    {
        std::ofstream out(scratch_file(), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    std::vector<std::string> notes;
    std::string yaml;
    bool accepted = true;
    try {
        yaml = engine::import_acceltran_config(scratch_file(), "", notes);
    } catch (const ConfigError& e) {
        fuzz::check_located(e.what());
        accepted = false;
    }
    for (const auto& note : notes) {
        const auto at = note.find(": ignoring field '");
        fuzz::check(note.rfind("note: ", 0) == 0 && at != std::string::npos && note.size() > 6, "a malformed note: " + note);
        fuzz::check_located(note.substr(6, at - 6) + ": error: (a note)");
    }
    if (!accepted) return 0;

    std::string renamed = yaml;
    for (std::size_t p = 0; (p = renamed.find("include:", p)) != std::string::npos; p += 13) renamed.replace(p, 8, "include_file:");
    config::Diagnostics diags;
    const config::Node out = config::load_string(renamed, "imported.yaml", diags);
    if (!diags.empty()) fuzz::fail("the imported YAML does not read back:\n" + diags.format() + "\n" + yaml);
    fuzz::check(out.kind == config::Node::Kind::map, "the imported YAML is not a map:\n" + yaml);
    std::set<std::string> keys;
    for (const auto& [k, v] : out.fields) keys.insert(k);
    fuzz::check(keys == std::set<std::string>{"name", "description", "clock_mhz", "data_bits", "tile", "power_gating", "processing_elements", "units"},
                "the imported YAML has other top-level keys than an accelerator file:\n" + yaml);
    fuzz::check(out.find("name")->scalar == "config", "the imported name is not the file's stem:\n" + yaml);
    fuzz::check(yaml.find("\n# AccelTran batch_size: ") != std::string::npos, "the batch size comment is missing:\n" + yaml);

    // The numbers of the input, read the way the importer reads them (it accepted them).
    config::Diagnostics in_diags;
    const config::Node in = config::load_file(scratch_file(), in_diags);
    fuzz::check(in_diags.empty(), "the importer accepted a file that does not load:\n" + in_diags.format());
    auto same = [&](const char* ours, const char* theirs) {
        const std::int64_t a = int_of(config::find_path(out, ours)), b = int_of(config::find_path(in, theirs));
        fuzz::check(a > 0 && a == b, std::string("imported ") + ours + " differs from the input's " + theirs + ":\n" + yaml);
    };
    same("tile.b", "tile.tile_b");
    same("tile.x", "tile.tile_x");
    same("tile.y", "tile.tile_y");
    same("processing_elements.count", "pe");
    same("processing_elements.units[0].params.macs", "mac_per_lane");
    same("processing_elements.units[1].count", "softmax_per_pe");
    same("processing_elements.units[1].params.tile", "tile.tile_x");
    for (int i : {0, 3, 4, 5, 6}) same(("processing_elements.units[" + std::to_string(i) + "].count").c_str(), "lanes_per_pe");
    same("units[3].params.banks", "main_memory.banks");
    same("units[3].params.ranks", "main_memory.ranks");
    same("units[3].params.channels", "main_memory.channels");
    const config::Node* pe_units = config::find_path(out, "processing_elements.units");
    const config::Node* units = out.find("units");
    fuzz::check(pe_units != nullptr && pe_units->items.size() == 9 && units != nullptr && units->items.size() == 5,
                "the imported YAML does not have 9 PE units and 5 chip units (three buffers, main memory, interconnect):\n" + yaml);
    return 0;
}
