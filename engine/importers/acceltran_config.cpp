#include "importers/acceltran_config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/node.hpp"
#include "config/schema_validation.hpp"

namespace transcode::engine {

namespace {

using config::Node;

// A field of an AccelTran config: its key, what it is (for messages) and an example.
struct Field {
    const char* key;
    const char* what;
    const char* example;
};

constexpr Field top_fields[] = {
    {"tile", "the tile size", "tile: {tile_b: 1, tile_x: 16, tile_y: 16}"},
    {"non_linearity", "the MAC lanes' activation", "non_linearity: gelu"},
    {"pe", "the number of processing elements", "pe: 64"},
    {"lanes_per_pe", "the MAC lanes of each PE", "lanes_per_pe: 16"},
    {"mac_per_lane", "the MACs of each lane", "mac_per_lane: 16"},
    {"softmax_per_pe", "the softmax modules of each PE", "softmax_per_pe: 4"},
    {"batch_size", "the batch size", "batch_size: 4"},
    {"activation_buffer_size", "the activation buffer's size in MB", "activation_buffer_size: 4"},
    {"weight_buffer_size", "the weight buffer's size in MB", "weight_buffer_size: 8"},
    {"mask_buffer_size", "the mask buffer's size in MB", "mask_buffer_size: 1"},
    {"main_memory", "the main memory", "main_memory: {type: dram, mode: lb, banks: 32, ranks: 2, channels: 1}"},
};
constexpr Field tile_fields[] = {
    {"tile_b", "the tile's batch dimension", "tile_b: 1"},
    {"tile_x", "the tile's x dimension", "tile_x: 16"},
    {"tile_y", "the tile's y dimension", "tile_y: 16"},
};
constexpr Field memory_fields[] = {
    {"type", "the memory technology", "type: dram"},
    {"mode", "the bandwidth mode", "mode: lb"},
    {"banks", "the number of banks", "banks: 32"},
    {"ranks", "the number of ranks", "ranks: 2"},
    {"channels", "the number of channels", "channels: 1"},
};

// An accepted spelling and what it becomes in the accelerator file.
struct Choice {
    const char* in;
    const char* out;
};

bool is_null(const Node& n) {
    return n.kind == Node::Kind::null ||
           (n.kind == Node::Kind::scalar && !n.quoted && (n.scalar == "~" || n.scalar == "null" || n.scalar == "Null" || n.scalar == "NULL"));
}

std::string got(const Node& n) {
    if (is_null(n)) return "nothing";
    if (n.kind == Node::Kind::scalar) return fmt::format("'{}'", n.scalar);
    return fmt::format("a {}", n.kind_name());
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// JSON string syntax is YAML's double-quoted scalar; invalid UTF-8 becomes U+FFFD.
std::string quoted(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// A file name for a comment line: no control character may end the comment early.
std::string printable(std::string s) {
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return s;
}

std::string_view without_plus(std::string_view s) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    return s;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
    s = without_plus(s);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

struct Importer {
    config::Diagnostics& diags;
    std::vector<std::pair<config::Location, std::string>> notes;
    std::vector<std::pair<const Node*, config::Location>> keys;  // where each field's key is

    // An empty value (`pe:`) is located by YAML at the next token: report it at its key instead.
    void error(const Node& n, const std::string& path, const std::string& msg) {
        config::Location at = n.where;
        for (const auto& [node, key] : keys)
            if (node == &n && is_null(n)) at = key;
        diags.add(at, path, msg, "import");
    }

    // The fields of one map: unknown keys are noted, missing ones reported. Returns the value of
    // each of `fields`, in order (null where missing).
    template <std::size_t N>
    std::vector<const Node*> section(const Node& map, const std::string& prefix, const Field (&fields)[N]) {
        std::vector<std::string> ignored;
        for (std::size_t i = 0; i < map.fields.size(); ++i) {
            const std::string& key = map.fields[i].first;
            if (std::any_of(std::begin(fields), std::end(fields), [&](const Field& f) { return key == f.key; })) {
                keys.emplace_back(&map.fields[i].second, map.key_locations[i]);
                continue;
            }
            ignored.push_back(key);
            const config::Location& at = map.key_locations[i];
            notes.emplace_back(at, fmt::format("note: {}:{}:{}: ignoring field '{}' (not used by transcode)", at.file, at.line, at.column, prefix + key));
        }
        std::vector<const Node*> out;
        for (const Field& f : fields) {
            const Node* n = map.find(f.key);
            out.push_back(n);
            if (n != nullptr) continue;
            std::string msg = fmt::format("required key '{}' is missing ({}, e.g. {})", f.key, f.what, f.example);
            for (const auto& k : ignored)
                if (!config::closest_match(k, {f.key}).empty()) {
                    msg += fmt::format("; is '{}' a misspelling of it?", k);
                    break;
                }
            if (std::string(f.key) == "main_memory" && map.find("main_memory_config") != nullptr)
                msg += "; the older form main_memory_config: {TYPE: {banks, ranks, channels}} is not read";
            error(map, prefix + f.key, msg);
        }
        return out;
    }

    bool is_map(const Node* n, const std::string& path, const char* keys) {
        if (n == nullptr) return false;
        if (n->kind == Node::Kind::map) return true;
        error(*n, path, fmt::format("expected a map with {}, got {}", keys, got(*n)));
        return false;
    }

    // A positive integer; `what` says what it counts.
    std::optional<std::int64_t> count(const Node* n, const std::string& path, const char* what) {
        if (n == nullptr) return std::nullopt;
        if (n->kind == Node::Kind::scalar && !is_null(*n) && !n->quoted)
            if (auto v = parse_int(n->scalar); v && *v > 0) return v;
        std::string msg = fmt::format("expected a positive integer ({}), got {}", what, got(*n));
        if (n->kind == Node::Kind::scalar && n->quoted && parse_int(n->scalar)) msg += " (quoted, so a string: write numbers unquoted)";
        error(*n, path, msg);
        return std::nullopt;
    }

    // A positive, finite number of megabytes, returned as it will be written.
    std::optional<std::string> megabytes(const Node* n, const std::string& path, const char* what) {
        if (n == nullptr) return std::nullopt;
        if (n->kind == Node::Kind::scalar && !is_null(*n) && !n->quoted)
            if (auto v = config::parse_decimal(n->scalar); v && std::isfinite(*v) && *v > 0) return fmt::format("{}", *v);
        std::string msg = fmt::format("expected a positive number of MB ({}), got {}", what, got(*n));
        if (n->kind == Node::Kind::scalar && n->quoted && config::parse_decimal(n->scalar)) msg += " (quoted, so a string: write numbers unquoted)";
        error(*n, path, msg);
        return std::nullopt;
    }

    // One of `choices` (quoted or not), mapped to its output spelling.
    template <std::size_t N>
    std::optional<std::string> choice(const Node* n, const std::string& path, const Choice (&choices)[N], const char* expected) {
        if (n == nullptr) return std::nullopt;
        if (n->kind != Node::Kind::scalar || is_null(*n)) {
            error(*n, path, fmt::format("expected {}, got {}", expected, got(*n)));
            return std::nullopt;
        }
        std::vector<std::string> names;
        for (const Choice& c : choices) {
            if (n->scalar == c.in) return std::string(c.out);
            names.emplace_back(c.in);
        }
        std::string msg = fmt::format("unknown value '{}'; expected {}", n->scalar, expected);
        const std::string near = config::closest_match(lower(n->scalar), names);
        if (!near.empty()) msg += fmt::format("; did you mean '{}'?", near);
        error(*n, path, msg);
        return std::nullopt;
    }
};

namespace fs = std::filesystem;

// `p` made absolute and canonical (symbolic links resolved, as the system resolves the `..` of an
// include), as far as it exists.
fs::path canonical_or_absolute(const fs::path& p) {
    std::error_code ec;
    fs::path abs = fs::absolute(p, ec);
    if (ec) abs = p;
    fs::path canon = fs::weakly_canonical(abs, ec);
    return ec ? abs.lexically_normal() : canon;
}

// The path that leads from the folder `from_dir` to `to`, or `to`'s absolute path when no
// relative one exists; with '/' separators.
std::string path_from(const fs::path& from_dir, const fs::path& to) {
    const fs::path from = canonical_or_absolute(from_dir), target = canonical_or_absolute(to);
    const fs::path rel = target.lexically_relative(from);
    return rel.empty() ? target.generic_string() : rel.generic_string();
}

// A path as a YAML scalar in a flow map: plain when that is safe, else double-quoted.
std::string yaml_path(const std::string& p) {
    const bool plain = !p.empty() && p.front() != '-' && std::all_of(p.begin(), p.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '/' || c == '_' || c == '-';
    });
    return plain ? p : quoted(p);
}

constexpr Choice non_linearities[] = {{"relu", "relu"}, {"gelu", "gelu"}};
constexpr Choice memory_types[] = {{"dram", "lpddr3"}, {"hbm", "hbm"}, {"rram", "rram"}};
constexpr Choice memory_modes[] = {{"lb", "low_bandwidth"},  {"hb", "high_bandwidth"},
                                   {"lbw", "low_bandwidth"}, {"hbw", "high_bandwidth"},
                                   {"low_bandwidth", "low_bandwidth"}, {"high_bandwidth", "high_bandwidth"}};

}  // namespace

ComponentIncludes component_includes(const fs::path& components_dir, const fs::path& output_dir, bool to_stdout) {
    const fs::path components = canonical_or_absolute(components_dir);
    ComponentIncludes out;
    out.folder = path_from(output_dir, components);
    const std::string figures = printable(components.string());
    const std::string where = printable(canonical_or_absolute(output_dir).string());
    if (to_stdout)
        out.comment = {fmt::format("The includes lead to the component figures in {}", figures),
                       fmt::format("from the folder this was printed in, {}:", where),
                       "save the file there, or import with -o FILE, which writes the includes relative to FILE's folder."};
    else if (fs::path(out.folder).is_absolute())
        out.comment = {fmt::format("The includes are the absolute paths of the component figures in {}", figures),
                       "(no relative path leads there from this file's folder)."};
    else
        out.comment = {fmt::format("The includes lead to the component figures in {}", figures),
                       fmt::format("from this file's folder ({}): if you move the file, import it again with -o at its new place.", where)};
    return out;
}

std::string import_acceltran_config(const fs::path& file, const std::string& name, std::vector<std::string>& notes, const ComponentIncludes& includes) {
    return import_acceltran_accelerator(file, name, notes, includes).yaml;
}

std::string acceltran_companion_experiment(const fs::path& source, std::int64_t batch_size, const fs::path& model_file, const fs::path& accelerator_file,
                                           const fs::path& experiment_file) {
    const fs::path dir = canonical_or_absolute(experiment_file).parent_path();
    const std::string filename = source.filename().string();
    return fmt::format(
        "# Written by `transcode import acceltran-config` from {}: the model {} on the imported\n"
        "# accelerator {} at AccelTran's batch_size ({}). The includes are relative to this file's folder.\n"
        "# Run: transcode run THIS_FILE (add --set mode=training for a training step).\n"
        "experiment: {}\n"
        "description: {}\n"
        "kind: simulate\n"
        "mode: inference\n"
        "model:\n"
        "  include: {}\n"
        "accelerator:\n"
        "  include: {}\n"
        "simulation:\n"
        "  batch_size: {}             # AccelTran's batch_size: sets the model's params.batch_size\n",
        printable(filename), printable(model_file.filename().string()), printable(accelerator_file.filename().string()), batch_size,
        quoted(experiment_file.stem().string()),
        quoted(fmt::format("{} on the accelerator imported from the AccelTran config {}, batch {}", model_file.stem().string(), filename, batch_size)),
        yaml_path(path_from(dir, model_file)), yaml_path(path_from(dir, accelerator_file)), batch_size);
}

ImportedAccelerator import_acceltran_accelerator(const fs::path& file, const std::string& name, std::vector<std::string>& notes,
                                                 const ComponentIncludes& includes) {
    config::Diagnostics diags;
    const Node root = config::load_file(file, diags);
    diags.throw_if_any();
    Importer im{diags, {}, {}};
    if (root.kind != Node::Kind::map) {
        im.error(root, "",
                 fmt::format("expected an AccelTran accelerator config (a map with tile, non_linearity, pe, lanes_per_pe, mac_per_lane, "
                             "softmax_per_pe, batch_size, the three buffer sizes and main_memory), got {}",
                             got(root)));
        diags.throw_if_any();
    }
    if (root.find("l") != nullptr && root.find("o") != nullptr && root.find("pe") == nullptr) {
        im.error(root, "", "this is an AccelTran model dictionary ({l, o, h, f}), not an accelerator config: use `transcode import acceltran-model`");
        diags.throw_if_any();
    }
    const auto top = im.section(root, "", top_fields);
    const Node *tile = top[0], *non_linearity = top[1], *pe_n = top[2], *lanes_n = top[3], *macs_n = top[4], *softmax_n = top[5],
               *batch_n = top[6], *act_n = top[7], *weight_n = top[8], *mask_n = top[9], *memory = top[10];

    std::optional<std::int64_t> tile_b, tile_x, tile_y;
    if (im.is_map(tile, "tile", "tile_b, tile_x and tile_y")) {
        const auto t = im.section(*tile, "tile.", tile_fields);
        tile_b = im.count(t[0], "tile.tile_b", "the tile's batch dimension");
        tile_x = im.count(t[1], "tile.tile_x", "the tile's x dimension");
        tile_y = im.count(t[2], "tile.tile_y", "the tile's y dimension");
    }
    const auto activation = im.choice(non_linearity, "non_linearity", non_linearities, "relu or gelu");
    const auto pes = im.count(pe_n, "pe", "the number of processing elements");
    const auto lanes = im.count(lanes_n, "lanes_per_pe", "the MAC lanes of each PE");
    std::optional<std::int64_t> macs;
    if (const auto m = im.count(macs_n, "mac_per_lane", "the MACs of each lane")) {
        if (*m == 1 || *m == 16)
            macs = m;
        else
            im.error(*macs_n, "mac_per_lane", fmt::format("must be 1 or 16 (the MAC lane widths of AccelTran's design space), got {}", *m));
    }
    const auto softmax = im.count(softmax_n, "softmax_per_pe", "the softmax modules of each PE");
    const auto batch = im.count(batch_n, "batch_size", "the batch size");
    const auto act_mb = im.megabytes(act_n, "activation_buffer_size", "the activation buffer's size");
    const auto weight_mb = im.megabytes(weight_n, "weight_buffer_size", "the weight buffer's size");
    const auto mask_mb = im.megabytes(mask_n, "mask_buffer_size", "the mask buffer's size");
    std::optional<std::string> mem_type, mem_mode;
    std::optional<std::int64_t> banks, ranks, channels;
    if (im.is_map(memory, "main_memory", "type, mode, banks, ranks and channels")) {
        const auto m = im.section(*memory, "main_memory.", memory_fields);
        mem_type = im.choice(m[0], "main_memory.type", memory_types, "dram, hbm or rram");
        mem_mode = im.choice(m[1], "main_memory.mode", memory_modes, "lb or hb (also lbw, hbw, low_bandwidth, high_bandwidth)");
        banks = im.count(m[2], "main_memory.banks", "the number of banks");
        ranks = im.count(m[3], "main_memory.ranks", "the number of ranks");
        channels = im.count(m[4], "main_memory.channels", "the number of channels");
    }

    std::stable_sort(im.notes.begin(), im.notes.end(),
                     [](const auto& a, const auto& b) { return std::tie(a.first.line, a.first.column) < std::tie(b.first.line, b.first.column); });
    for (auto& [where, text] : im.notes) notes.push_back(std::move(text));
    diags.throw_if_any();

    // Every optional below holds a value: a missing one was an error, thrown above.
    const std::string filename = file.filename().string();
    std::string out = fmt::format(
        "# Imported from {} by `transcode import acceltran-config`.\n"
        "{}"
        "# AccelTran batch_size: {} (set the model's params.batch_size to match, e.g. with --experiment-out)\n"
        "name: {}\n"
        "description: {}\n"
        "clock_mhz: 700\n"
        "data_bits: 20              # 20-bit fixed point (4 integer, 16 fraction bits)\n"
        "tile: {{b: {}, x: {}, y: {}}}\n"
        "power_gating: true\n"
        "processing_elements:\n"
        "  count: {}\n"
        "  units:\n",
        printable(filename),
        [&] {
            std::string c;
            for (const auto& line : includes.comment) c += "# " + printable(line) + "\n";
            return c;
        }(),
        batch.value(), quoted(name.empty() ? file.stem().string() : name), quoted("imported from the AccelTran config " + filename),
        tile_b.value(), tile_x.value(), tile_y.value(), pes.value());
    auto figure_file = [&](const char* figures) { return yaml_path(includes.folder + "/" + figures); };
    auto pe_unit = [&](const char* unit, const char* component, std::int64_t n, const char* figures, const std::string& params) {
        out += fmt::format("    - {{name: {}, component: {}, count: {},\n       params: {{include: {}, {}}}}}\n", unit, component, n,
                           figure_file(figures), params);
    };
    pe_unit("mac_lane", "acceltran.mac_lane", lanes.value(), "acceltran-mac-lane.yaml", fmt::format("macs: {}, activation: {}", macs.value(), activation.value()));
    pe_unit("softmax", "acceltran.softmax", softmax.value(), "acceltran-softmax.yaml", fmt::format("tile: {}", tile_x.value()));
    pe_unit("layer_norm", "acceltran.layer_norm", 1, "acceltran-layer-norm.yaml", fmt::format("tile: {}", tile_x.value()));
    for (const char* unit : {"pre_sparsity", "post_sparsity", "fifo", "stochastic_rounding"})
        pe_unit(unit, "acceltran.support", lanes.value(), "acceltran-support.yaml", fmt::format("unit: {}", unit));
    for (const char* unit : {"dataflow_controller", "dma"}) pe_unit(unit, "acceltran.support", 1, "acceltran-support.yaml", fmt::format("unit: {}", unit));
    out += "units:\n";
    const std::pair<const char*, const std::string*> buffers[] = {{"activation", &act_mb.value()}, {"weight", &weight_mb.value()}, {"mask", &mask_mb.value()}};
    for (const auto& [cls, mb] : buffers)
        out += fmt::format(
            "  - {{name: {}_buffer, component: acceltran.buffer,\n"
            "     params: {{include: {}, class: {}, size_mb: {}}}}}\n",
            cls, figure_file("acceltran-buffers.yaml"), cls, *mb);
    out += fmt::format(
        "  - {{name: main_memory, component: memory.main_memory,\n"
        "     params: {{include: {}, type: {}, banks: {}, ranks: {}, channels: {}, mode: {}}}}}\n",
        figure_file("memory.yaml"), mem_type.value(), banks.value(), ranks.value(), channels.value(), mem_mode.value());
    // AccelTran's configs do not describe the interconnect: the shipped assumption (see its file).
    out += fmt::format("  - {{name: interconnect, component: memory.interconnect, params: {{include: {}}}}}\n", figure_file("interconnect.yaml"));
    return {out, batch.value()};
}

}  // namespace transcode::engine
