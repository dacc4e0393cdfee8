#include "report/results_folder.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/diagnostics.hpp"
#include "transcode/errors.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

bool read_text(const fs::path& file, std::string& text) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return false;
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
    return !in.bad();
}

[[noreturn]] void fail(const std::string& file, const std::string& message) {
    throw ConfigError(fmt::format("{}: error: {} (report)", file, message));
}

// --- locating a value in JSON text --------------------------------------------------------------

std::size_t skip_space(const std::string& t, std::size_t i) {
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
    return i;
}

// The index just past the string that starts at t[i] == '"'; `out` gets its text, with the escapes
// \" and \\ undone (results.json keys need no others).
std::size_t skip_string(const std::string& t, std::size_t i, std::string* out) {
    for (++i; i < t.size() && t[i] != '"'; ++i) {
        if (t[i] == '\\' && i + 1 < t.size()) ++i;
        if (out != nullptr) out->push_back(t[i]);
    }
    return std::min(t.size(), i + 1);
}

std::size_t skip_value(const std::string& t, std::size_t i) {
    if (i >= t.size()) return i;
    if (t[i] == '"') return skip_string(t, i, nullptr);
    if (t[i] == '{' || t[i] == '[') {
        int depth = 0;
        for (; i < t.size(); ++i) {
            if (t[i] == '"') {
                i = skip_string(t, i, nullptr) - 1;
            } else if (t[i] == '{' || t[i] == '[') {
                ++depth;
            } else if (t[i] == '}' || t[i] == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return i;
    }
    while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\n' && t[i] != '\r' && t[i] != '\t') ++i;
    return i;
}

// The chart-facing checks of results.json, collected so that every problem is reported at once.
class Checker {
public:
    Checker(const std::string& text, const std::string& file) : text_(text), file_(file) {}

    void add(const std::string& pointer, const std::string& path, const std::string& message, const std::string& rule) {
        const auto [line, column] = line_column(text_, locate_json(text_, pointer));
        diags_.add({file_, line, column}, path.empty() ? "(document)" : path, message, rule);
    }

    // The member `key` of `parent` (at `pointer`, `path`) when it exists and has type `type`
    // ("object", "array", "string", "number"); otherwise a diagnostic and nullptr.
    const nlohmann::json* need(const nlohmann::json& parent, const std::string& pointer, const std::string& path, const std::string& key,
                               const std::string& type, const std::string& why = "") {
        const std::string child_path = path.empty() ? key : path + "." + key;
        const auto it = parent.find(key);
        if (it == parent.end()) {
            add(pointer, child_path, fmt::format("required key '{}' is missing{}", key, why), "required");
            return nullptr;
        }
        return typed(*it, pointer + "/" + key, child_path, type);
    }

    const nlohmann::json* typed(const nlohmann::json& v, const std::string& pointer, const std::string& path, const std::string& type) {
        const bool ok = type == "object"   ? v.is_object()
                        : type == "array"  ? v.is_array()
                        : type == "string" ? v.is_string()
                                           : v.is_number();
        if (ok) return &v;
        add(pointer, path, fmt::format("expected {} {}, got {}", type == "object" || type == "array" ? "an" : "a", type, type_name(v)),
            "type");
        return nullptr;
    }

    // Every member of the object `o` must be an object holding each of `numbers` as a number.
    void objects_of_numbers(const nlohmann::json& o, const std::string& pointer, const std::string& path,
                            const std::vector<std::string>& numbers) {
        for (const auto& [k, v] : o.items()) {
            const nlohmann::json* item = typed(v, pointer + "/" + k, path + "." + k, "object");
            if (item != nullptr)
                for (const auto& n : numbers) need(*item, pointer + "/" + k, path + "." + k, n, "number");
        }
    }
    // Every item of the array `a` must be an object holding each of `numbers` as a number.
    void array_of_objects(const nlohmann::json& a, const std::string& pointer, const std::string& path,
                          const std::vector<std::string>& numbers) {
        for (std::size_t i = 0; i < a.size(); ++i) {
            const std::string p = pointer + "/" + std::to_string(i), q = fmt::format("{}[{}]", path, i);
            const nlohmann::json* item = typed(a[i], p, q, "object");
            if (item != nullptr)
                for (const auto& n : numbers) need(*item, p, q, n, "number");
        }
    }
    void numbers(const nlohmann::json& o, const std::string& pointer, const std::string& path) {
        for (const auto& [k, v] : o.items()) typed(v, pointer + "/" + k, path + "." + k, "number");
    }

    void throw_if_any() const { diags_.throw_if_any(); }

private:
    static std::string type_name(const nlohmann::json& v) {
        if (v.is_object()) return "an object";
        if (v.is_array()) return "an array";
        if (v.is_string()) return "a string";
        if (v.is_boolean()) return "a boolean";
        if (v.is_null()) return "null";
        return "a number";
    }

    const std::string& text_;
    const std::string& file_;
    config::Diagnostics diags_;
};

void check_simulation(Checker& c, const nlohmann::json& doc, const std::string& why) {
    if (const auto* latency = c.need(doc, "", "", "latency", "object", why)) c.need(*latency, "/latency", "latency", "seconds", "number");
    if (const auto* energy = c.need(doc, "", "", "energy", "object", why)) {
        c.need(*energy, "/energy", "energy", "total_j", "number");
        if (const auto* b = c.need(*energy, "/energy", "energy", "breakdown", "object"))
            c.objects_of_numbers(*b, "/energy/breakdown", "energy.breakdown", {"dynamic_j", "leakage_j"});
    }
    if (const auto* phases = c.need(doc, "", "", "phases", "object", why))
        c.objects_of_numbers(*phases, "/phases", "phases",
                             {"start_cycle", "end_cycle", "seconds", "exclusive_cycles", "dynamic_j", "leakage_j"});
    if (const auto* memory = c.need(doc, "", "", "memory", "object", why))
        if (const auto* levels = c.need(*memory, "/memory", "memory", "levels", "object"))
            c.objects_of_numbers(*levels, "/memory/levels", "memory.levels", {"read_bytes", "write_bytes", "busy_cycles", "dynamic_j"});
    if (const auto* acc = c.need(doc, "", "", "accelerator", "object", why)) {
        c.need(*acc, "/accelerator", "accelerator", "clock_hz", "number");
        if (const auto* b = c.need(*acc, "/accelerator", "accelerator", "breakdown", "object"))
            c.objects_of_numbers(*b, "/accelerator/breakdown", "accelerator.breakdown", {"area_mm2"});
    }
    if (const auto* cp = c.need(doc, "", "", "critical_path", "object", why)) c.numbers(*cp, "/critical_path", "critical_path");
    if (const auto* u = c.need(doc, "", "", "utilisation", "object", why)) c.numbers(*u, "/utilisation", "utilisation");
}

void check_design(Checker& c, const nlohmann::json& d, const std::string& pointer, const std::string& path) {
    c.need(d, pointer, path, "design", "string");
    for (const char* n : {"accuracy", "latency_s", "energy_j", "area_mm2"}) c.need(d, pointer, path, n, "number");
}

}  // namespace

const std::vector<std::string>& report_kinds() {
    static const std::vector<std::string> kinds{"simulate", "train", "train_and_simulate", "dynaprop_sweep", "codesign"};
    return kinds;
}

std::pair<int, int> line_column(const std::string& text, std::size_t offset) {
    int line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++column;  // columns count characters, not UTF-8 continuation bytes
        }
    }
    return {line, column};
}

std::size_t locate_json(const std::string& text, const std::string& pointer) {
    std::size_t i = skip_space(text, 0);
    std::size_t from = 1;
    while (from <= pointer.size() && !pointer.empty()) {
        const std::size_t slash = pointer.find('/', from);
        const std::string token = pointer.substr(from, slash == std::string::npos ? std::string::npos : slash - from);
        from = slash == std::string::npos ? pointer.size() + 1 : slash + 1;
        if (i >= text.size()) return i;
        const std::size_t container = i;
        bool found = false;
        if (text[i] == '{') {
            i = skip_space(text, i + 1);
            while (i < text.size() && text[i] == '"') {
                std::string key;
                i = skip_space(text, skip_string(text, i, &key));
                i = skip_space(text, i + 1);  // past ':'
                if (key == token) {
                    found = true;
                    break;
                }
                i = skip_space(text, skip_value(text, i));
                if (i < text.size() && text[i] == ',') i = skip_space(text, i + 1);
            }
        } else if (text[i] == '[') {
            const std::size_t n = std::strtoul(token.c_str(), nullptr, 10);
            i = skip_space(text, i + 1);
            std::size_t k = 0;
            while (i < text.size() && text[i] != ']' && k < n) {
                i = skip_space(text, skip_value(text, i));
                if (i < text.size() && text[i] == ',') i = skip_space(text, i + 1);
                ++k;
            }
            found = k == n && i < text.size() && text[i] != ']';
        }
        if (!found) return container;
    }
    return i;
}

void check_results_json(const nlohmann::json& doc, const std::string& text, const std::string& file) {
    Checker c(text, file);
    if (!doc.is_object()) {
        c.typed(doc, "", "", "object");
        c.throw_if_any();
    }
    std::string kind;
    if (const auto* ex = c.need(doc, "", "", "experiment", "object")) {
        c.need(*ex, "/experiment", "experiment", "name", "string");
        if (const auto* k = c.need(*ex, "/experiment", "experiment", "kind", "string")) {
            kind = k->get<std::string>();
            const auto& kinds = report_kinds();
            if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
                c.add("/experiment/kind", "experiment.kind",
                      fmt::format("a run of kind '{}' has no report; transcode report draws the kinds {}", kind, fmt::join(kinds, ", ")),
                      "kind");
                kind.clear();
            }
        }
    }
    c.need(doc, "", "", "engine_version", "string");
    c.need(doc, "", "", "status", "string");
    const std::string why = kind.empty() ? "" : fmt::format(" (a run of kind {} writes it)", kind);
    if (kind == "simulate" || kind == "train_and_simulate") check_simulation(c, doc, why);
    if (kind == "train" || kind == "train_and_simulate")
        if (const auto* acc = c.need(doc, "", "", "accuracy", "object", why))
            if (const auto* epochs = c.need(*acc, "/accuracy", "accuracy", "epochs", "array"))
                c.array_of_objects(*epochs, "/accuracy/epochs", "accuracy.epochs",
                                   {"epoch", "train_loss", "validation_loss", "train_accuracy", "validation_accuracy"});
    if (kind == "dynaprop_sweep")
        if (const auto* sweep = c.need(doc, "", "", "sweep", "array", why))
            c.array_of_objects(*sweep, "/sweep", "sweep", {"validation_accuracy", "training_latency_s", "training_energy_j"});
    if (kind == "codesign")
        if (const auto* cd = c.need(doc, "", "", "codesign", "object", why)) {
            if (const auto* pareto = c.need(*cd, "/codesign", "codesign", "pareto", "object"))
                if (const auto* set = c.need(*pareto, "/codesign/pareto", "codesign.pareto", "set", "array"))
                    for (std::size_t i = 0; i < set->size(); ++i) {
                        const std::string p = "/codesign/pareto/set/" + std::to_string(i), q = fmt::format("codesign.pareto.set[{}]", i);
                        if (const auto* d = c.typed((*set)[i], p, q, "object")) check_design(c, *d, p, q);
                    }
            // The baseline pair is optional (a search with no baseline section has none).
            for (const char* side : {"best", "baseline"})
                if (const auto* d = std::string(side) == "baseline" && !cd->contains(side)
                                        ? nullptr
                                        : c.need(*cd, "/codesign", "codesign", side, "object")) {
                    const std::string p = std::string("/codesign/") + side, q = std::string("codesign.") + side;
                    const auto* status = c.need(*d, p, q, "status", "string");
                    if (status != nullptr && *status == "ok") check_design(c, *d, p, q);
                }
        }
    c.throw_if_any();
}

ResultsFolder read_results_folder(const fs::path& folder) {
    std::error_code ec;
    if (!fs::exists(folder, ec)) fail(folder.string(), "no such folder; give the output folder of a run (out/NAME)");
    if (!fs::is_directory(folder, ec)) fail(folder.string(), "not a folder; give the output folder of a run (out/NAME), not a file in it");
    ResultsFolder r;
    r.folder = folder;
    const fs::path results = folder / "results.json";
    const std::string file = results.string();
    if (!fs::exists(results, ec))
        fail(file,
             "not found: this is not the output folder of a finished run (a run writes results.json last, so a run that failed or is still "
             "running has none)");
    std::string text;
    if (!read_text(results, text)) fail(file, "cannot read the file");
    try {
        r.results = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // "[json.exception.parse_error.101] parse error at line L, column C: WHAT": keep WHAT, and
        // locate the byte the parser stopped at.
        std::string what = e.what();
        if (const std::size_t colon = what.find(": ", what.find("column")); colon != std::string::npos) what = what.substr(colon + 2);
        const auto [line, column] = line_column(text, e.byte > 0 ? e.byte - 1 : 0);
        throw ConfigError(fmt::format("{}:{}:{}: error: (document): not valid JSON: {} (syntax)", file, line, column, what));
    }
    check_results_json(r.results, text, file);
    for (const auto& [name, slot] : {std::pair{"ops.csv", &r.ops}, std::pair{"convergence.csv", &r.convergence}}) {
        const fs::path p = folder / name;
        if (!fs::exists(p, ec)) continue;
        std::string csv;
        if (!read_text(p, csv)) fail(p.string(), "cannot read the file");
        *slot = parse_csv(csv, p.string());
    }
    auto need_columns = [](const CsvFile& t, const fs::path& p, const std::vector<std::string>& columns) {
        for (const auto& c : columns)
            if (t.column(c) == std::string::npos)
                throw ConfigError(fmt::format("{}:1:1: error: header: no column '{}'; the report reads {} (csv)", p.string(), c,
                                              fmt::join(columns, ", ")));
    };
    if (r.ops) need_columns(*r.ops, folder / "ops.csv", {"phase", "unit", "cycles"});
    if (r.convergence) need_columns(*r.convergence, folder / "convergence.csv", {"evaluations", "hypervolume"});
    return r;
}

}  // namespace transcode::engine
