// The Python module `transcode`: a thin layer over the engine library. Every function here converts
// its Python arguments, calls the engine function the command line calls (experiment_runner.hpp,
// plugin_json.hpp, result_store.hpp), and converts the result back. It holds no logic of its own.
//
// Arguments are taken as py::object and checked here, so that a wrong type raises TypeError naming
// the parameter ("simulate(): mode must be a str, got int") rather than pybind11's list of
// overloads. Engine errors become transcode.ConfigError (a ValueError carrying the located
// diagnostics) and transcode.PluginError (a RuntimeError).
#include <pybind11/pybind11.h>
#include <pybind11/eval.h>
#include <pybind11/stl.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/dll/runtime_symbol_info.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "codesign/result_store.hpp"
#include "common/csv_table.hpp"
#include "config/diagnostics.hpp"
#include "config/node.hpp"
#include "experiment/experiment.hpp"
#include "experiment/experiment_runner.hpp"
#include "graph/model_summary.hpp"
#include "plugin_host/plugin_host.hpp"
#include "plugin_host/plugin_json.hpp"
#include "report/results.hpp"
#include "transcode/errors.hpp"
#include "transcode/plugin.hpp"

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace transcode;

namespace {

// --- Python exceptions ----------------------------------------------------------------------------

// Defined in Python, so that they carry attributes and a readable constructor.
const char* const exception_source = R"PY(
class ConfigError(ValueError):
    """A mistake in an experiment, model or accelerator (file or dict), an override or an argument:
    the same error `transcode` prints, exit code 2. str(e) is the CLI's message, one diagnostic a
    line (FILE:LINE:COL: error: path: message (rule)). The first diagnostic's fields are
    attributes (None when the message has no location); all of them are in `diagnostics`."""

    def __init__(self, message, diagnostics=()):
        super().__init__(message)
        self.message = message
        self.diagnostics = [dict(d) for d in diagnostics]
        first = self.diagnostics[0] if self.diagnostics else {}
        self.file = first.get("file")
        self.line = first.get("line")
        self.column = first.get("column")
        self.path = first.get("path")
        self.rule = first.get("rule")


class PluginError(RuntimeError):
    """A plugin that cannot be loaded, is misdeclared, or failed (the CLI's exit code 2)."""
)PY";

// Leaked on purpose: a static py::object would be released after the interpreter has finalised.
py::object& config_error_class() {
    static auto* cls = new py::object();
    return *cls;
}
py::object& plugin_error_class() {
    static auto* cls = new py::object();
    return *cls;
}

[[noreturn]] void raise(const py::object& cls, const py::object& instance) {
    PyErr_SetObject(cls.ptr(), instance.ptr());
    throw py::error_already_set();
}

[[noreturn]] void raise_config_error(const ConfigError& e) {
    py::list diagnostics;
    for (const config::Diagnostic& d : config::parse_diagnostics(e.what())) {
        py::dict item;
        item["file"] = d.where.file;
        item["line"] = d.where.line;
        item["column"] = d.where.column;
        item["path"] = d.path;
        item["message"] = d.message;
        item["rule"] = d.rule;
        diagnostics.append(item);
    }
    raise(config_error_class(), config_error_class()(std::string(e.what()), diagnostics));
}

// Runs `body` (engine work, without the GIL) and maps engine exceptions to Python ones.
template <class F>
auto call_engine(F&& body) {
    try {
        py::gil_scoped_release unlocked;
        return body();
    } catch (const ConfigError& e) {
        raise_config_error(e);
    } catch (const PluginError& e) {
        raise(plugin_error_class(), plugin_error_class()(std::string(e.what())));
    } catch (const InternalError& e) {
        throw std::runtime_error(fmt::format("internal error (a bug in transcode; please report it): {}", e.what()));
    }
}

// --- argument checks --------------------------------------------------------------------------------

std::string type_name(const py::handle& h) { return py::str(py::type::of(h).attr("__name__")); }

[[noreturn]] void wrong_type(const char* function, const char* parameter, const char* expected, const py::handle& got) {
    throw py::type_error(fmt::format("{}(): {} must be {}, got {}", function, parameter, expected, type_name(got)));
}

std::string as_str(const py::object& o, const char* function, const char* parameter) {
    if (!py::isinstance<py::str>(o)) wrong_type(function, parameter, "a str", o);
    return o.cast<std::string>();
}

bool as_bool(const py::object& o, const char* function, const char* parameter) {
    if (!py::isinstance<py::bool_>(o)) wrong_type(function, parameter, "a bool", o);
    return o.cast<bool>();
}

unsigned as_threads(const py::object& o, const char* function) {
    if (py::isinstance<py::bool_>(o) || !py::isinstance<py::int_>(o)) wrong_type(function, "threads", "an int", o);
    const long n = o.cast<long>();
    if (n < 1 || n > 1024) throw py::value_error(fmt::format("{}(): threads must be in 1..1024, got {}", function, n));
    return static_cast<unsigned>(n);
}

bool is_path(const py::object& o) { return py::isinstance<py::str>(o) || py::hasattr(o, "__fspath__"); }

fs::path as_path(const py::object& o) { return fs::path(py::str(py::module_::import("os").attr("fspath")(o)).cast<std::string>()); }

std::optional<fs::path> as_optional_path(const py::object& o, const char* function, const char* parameter) {
    if (o.is_none()) return std::nullopt;
    if (!is_path(o)) wrong_type(function, parameter, "a path (str or os.PathLike) or None", o);
    return as_path(o);
}

// A Python value as the VALUE of a --set PATH=VALUE (parsed as YAML): str as written, anything else
// as JSON (which YAML reads): True -> true, 0.5 -> 0.5, [1, 2] -> [1, 2].
std::string override_value(const py::handle& v, const char* function) {
    if (py::isinstance<py::str>(v)) return v.cast<std::string>();
    try {
        return py::str(py::module_::import("json").attr("dumps")(v)).cast<std::string>();
    } catch (const py::error_already_set&) {
        wrong_type(function, "overrides", "a dict of JSON-like values (str, int, float, bool, list, dict)", v);
    }
}

// overrides: None, {"path": value}, or ["path=value", ...] (the CLI's --set).
std::vector<std::string> as_overrides(const py::object& o, const char* function) {
    std::vector<std::string> out;
    if (o.is_none()) return out;
    if (py::isinstance<py::dict>(o)) {
        for (const auto& [k, v] : o.cast<py::dict>()) {
            if (!py::isinstance<py::str>(k)) wrong_type(function, "overrides", "a dict with str keys (dotted paths)", k);
            out.push_back(k.cast<std::string>() + "=" + override_value(v, function));
        }
        return out;
    }
    if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
        for (const auto& item : o) {
            if (!py::isinstance<py::str>(item)) wrong_type(function, "overrides", "a dict, or a list of 'PATH=VALUE' str", item);
            out.push_back(item.cast<std::string>());
        }
        return out;
    }
    wrong_type(function, "overrides", "a dict, a list of 'PATH=VALUE' str, or None", o);
}

// A dict as YAML text (JSON is YAML), indented so that its lines are the ones of json.dumps(d, indent=2).
std::string dict_text(const py::object& d, const char* function, const char* parameter) {
    try {
        return py::str(py::module_::import("json").attr("dumps")(d, py::arg("indent") = 2)).cast<std::string>();
    } catch (const py::error_already_set&) {
        wrong_type(function, parameter, "a dict of JSON-like values (str, int, float, bool, list, dict)", d);
    }
}

// A source document: a file, or a dict parsed as the document "<dict>" (relative includes from the
// current directory). The parse runs with the GIL held (it reads only a string).
struct Document {
    config::Node root;
    config::Diagnostics diags;
    fs::path file;
};

Document load_document(const py::object& source, const char* function, const char* parameter) {
    Document d;
    if (py::isinstance<py::dict>(source)) {
        d.file = "<dict>";
        d.root = config::load_string(dict_text(source, function, parameter), "<dict>", d.diags, fs::current_path());
    } else if (is_path(source)) {
        d.file = as_path(source);
        try {
            d.root = config::load_file(d.file, d.diags);
        } catch (const ConfigError& e) {
            raise_config_error(e);
        }
    } else {
        wrong_type(function, parameter, "a file path (str or os.PathLike) or a dict", source);
    }
    return d;
}

// --- conversions ----------------------------------------------------------------------------------------

py::object to_python(const nlohmann::json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::null: return py::none();
        case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
        case nlohmann::json::value_t::number_integer: return py::int_(j.get<std::int64_t>());
        case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<std::uint64_t>());
        case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
        case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
        case nlohmann::json::value_t::array: {
            py::list l;
            for (const auto& e : j) l.append(to_python(e));
            return l;
        }
        case nlohmann::json::value_t::object: {
            py::dict d;
            for (const auto& [k, v] : j.items()) d[py::str(k)] = to_python(v);
            return d;
        }
        default: return py::none();
    }
}

// --- the plugin host ------------------------------------------------------------------------------------

// One host per process, loaded as the CLI loads it: the built-in plugin folder (found from the
// install prefix above this module), then TRANSCODE_PLUGIN_PATH; skipped entries become warnings.
engine::PluginHost& host() {
    static std::unique_ptr<engine::PluginHost> h;
    if (!h) {
        auto fresh = std::make_unique<engine::PluginHost>();
        call_engine([&] {
            fresh->load_defaults();
            return 0;
        });
        for (const std::string& s : fresh->skipped()) PyErr_WarnEx(PyExc_RuntimeWarning, s.c_str(), 1);
        h = std::move(fresh);
    }
    return *h;
}

void set_log_level(bool quiet) { spdlog::default_logger()->set_level(quiet ? spdlog::level::warn : spdlog::level::info); }

// --- ops.csv as rows --------------------------------------------------------------------------------------

// Each column typed by its values: int when every value is an integer, float when every value is a
// number, else str.
struct Table {
    std::vector<std::string> columns;
    std::vector<char> types;  // 'i', 'f', 's'
    std::vector<std::vector<std::string>> rows;
};

bool parses_as_int(const std::string& s) {
    std::int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

bool parses_as_float(const std::string& s) {
    if (s.empty()) return false;
    std::size_t used = 0;
    try {
        (void)std::stod(s, &used);
    } catch (const std::exception&) {
        return false;
    }
    return used == s.size();
}

std::optional<Table> read_table(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Table t;
    if (text.empty()) return t;
    // The engine's own reader of its RFC 4180 output (common/csv_table.hpp).
    engine::CsvFile csv = engine::parse_csv(text, file.string());
    t.columns = std::move(csv.header);
    t.rows = std::move(csv.rows);
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
        bool all_int = true, all_float = true;
        for (const auto& r : t.rows) {
            const std::string& v = c < r.size() ? r[c] : std::string();
            all_int = all_int && parses_as_int(v);
            all_float = all_float && parses_as_float(v);
        }
        t.types.push_back(all_int ? 'i' : all_float ? 'f' : 's');
    }
    return t;
}

py::object cell(const Table& t, std::size_t row, std::size_t c) {
    const std::string& v = c < t.rows[row].size() ? t.rows[row][c] : std::string();
    if (t.types[c] == 'i') return py::int_(std::stoll(v));
    if (t.types[c] == 'f') return py::float_(std::stod(v));
    return py::str(v);
}

// --- results ------------------------------------------------------------------------------------------------

/// What run() and simulate() return: results.json as a read-only mapping, plus the output folder
/// and the per-op table (ops.csv) of a simulation.
struct Result {
    py::dict doc;
    std::string out;
    std::optional<Table> ops;
};

Result make_result(const nlohmann::json& doc, const fs::path& out) {
    Result r;
    r.doc = to_python(doc).cast<py::dict>();
    r.out = out.string();
    r.ops = read_table(out / "ops.csv");
    return r;
}

py::list ops_rows(const Result& r) {
    py::list rows;
    if (!r.ops) return rows;
    for (std::size_t i = 0; i < r.ops->rows.size(); ++i) {
        py::dict d;
        for (std::size_t c = 0; c < r.ops->columns.size(); ++c) d[py::str(r.ops->columns[c])] = cell(*r.ops, i, c);
        rows.append(d);
    }
    return rows;
}

py::object ops_array(const Result& r) {
    py::module_ np = py::module_::import("numpy");
    py::list dtype;
    py::list records;
    if (r.ops) {
        for (std::size_t c = 0; c < r.ops->columns.size(); ++c) {
            std::string format = r.ops->types[c] == 'i' ? "i8" : r.ops->types[c] == 'f' ? "f8" : "";
            if (format.empty()) {
                std::size_t width = 1;
                for (const auto& row : r.ops->rows) width = std::max(width, c < row.size() ? row[c].size() : 0);
                format = fmt::format("U{}", width);
            }
            dtype.append(py::make_tuple(r.ops->columns[c], format));
        }
        for (std::size_t i = 0; i < r.ops->rows.size(); ++i) {
            py::list values;
            for (std::size_t c = 0; c < r.ops->columns.size(); ++c) values.append(cell(*r.ops, i, c));
            records.append(py::tuple(values));
        }
    }
    return np.attr("array")(records, py::arg("dtype") = dtype);
}

// --- the functions ------------------------------------------------------------------------------------------

Result simulate_py(const py::object& model, const py::object& accelerator, const py::object& mode, const py::object& fidelity,
                   const py::object& overrides, const py::object& out, const py::object& quiet) {
    const char* fn = "simulate";
    engine::SimulateRequest request;
    auto section = [&](const py::object& source, const char* parameter, std::string& stem) {
        if (py::isinstance<py::dict>(source)) {
            const py::dict d = source.cast<py::dict>();
            stem = d.contains("name") && py::isinstance<py::str>(d["name"]) ? d["name"].cast<std::string>() : "dict";
            // Indented under its key: the lines of the dict follow the `model:` line.
            std::string text = dict_text(source, fn, parameter);
            std::string indented;
            for (char ch : text) indented += ch == '\n' ? std::string("\n  ") : std::string(1, ch);
            return indented;
        }
        if (!is_path(source)) wrong_type(fn, parameter, "a file path (str or os.PathLike) or a dict", source);
        const fs::path file = as_path(source);
        stem = file.stem().string();
        return engine::include_section(file);
    };
    std::string model_stem, accelerator_stem;
    request.model = section(model, "model", model_stem);
    request.accelerator = section(accelerator, "accelerator", accelerator_stem);
    request.name = fmt::format("simulate-{}-{}", model_stem, accelerator_stem);
    request.mode = as_str(mode, fn, "mode");
    request.fidelity = as_str(fidelity, fn, "fidelity");
    request.overrides = as_overrides(overrides, fn);
    const std::optional<fs::path> out_dir = as_optional_path(out, fn, "out");
    const bool be_quiet = as_bool(quiet, fn, "quiet");
    engine::PluginHost& plugins = host();
    set_log_level(be_quiet);
    fs::path folder;
    const nlohmann::json doc = call_engine([&] {
        const engine::Experiment ex = engine::load_simulate_experiment(request, plugins);
        engine::RunSettings settings;
        settings.out = out_dir ? *out_dir : fs::path();
        settings.quiet = be_quiet;
        folder = settings.out.empty() ? engine::default_output_folder(ex) : settings.out;
        return engine::run_experiment(ex, plugins, settings);
    });
    return make_result(doc, folder);
}

Result run_py(const py::object& experiment, const py::object& overrides, const py::object& out, const py::object& threads,
              const py::object& resume, const py::object& quiet) {
    const char* fn = "run";
    Document d = load_document(experiment, fn, "experiment");
    const std::vector<std::string> sets = as_overrides(overrides, fn);
    const std::optional<fs::path> out_dir = as_optional_path(out, fn, "out");
    engine::RunSettings settings;
    settings.out = out_dir ? *out_dir : fs::path();
    settings.threads = as_threads(threads, fn);
    settings.resume = as_bool(resume, fn, "resume");
    settings.quiet = as_bool(quiet, fn, "quiet");
    engine::PluginHost& plugins = host();
    set_log_level(settings.quiet);
    fs::path folder;
    const nlohmann::json doc = call_engine([&] {
        if (!d.diags.empty() && d.root.kind == config::Node::Kind::null) d.diags.throw_if_any();
        for (const auto& ov : sets) config::apply_override(d.root, ov, d.diags);
        const engine::Experiment ex = engine::load_experiment(std::move(d.root), std::move(d.diags), d.file, plugins);
        folder = settings.out.empty() ? engine::default_output_folder(ex) : settings.out;
        return engine::run_experiment(ex, plugins, settings);
    });
    return make_result(doc, folder);
}

std::string validate_py(const py::object& source, const py::object& overrides) {
    Document d = load_document(source, "validate", "source");
    const std::vector<std::string> sets = as_overrides(overrides, "validate");
    engine::PluginHost& plugins = host();
    return call_engine([&] { return engine::validate_document(std::move(d.root), std::move(d.diags), d.file, sets, plugins); });
}

py::object load_model_py(const py::object& source, const py::object& overrides, const py::object& training) {
    Document d = load_document(source, "load_model", "source");
    const std::vector<std::string> sets = as_overrides(overrides, "load_model");
    const bool train = as_bool(training, "load_model", "training");
    engine::PluginHost& plugins = host();
    const nlohmann::json j = call_engine([&] {
        if (!d.diags.empty() && d.root.kind == config::Node::Kind::null) d.diags.throw_if_any();
        for (const auto& ov : sets) config::apply_override(d.root, ov, d.diags);
        const engine::LoadedModel m = engine::load_model(std::move(d.root), std::move(d.diags), d.file, plugins);
        // What `transcode model describe --json` prints.
        nlohmann::json out = engine::to_json(engine::summarize(engine::step_graph(m, train, engine::OptimizerSettings{})));
        out["name"] = m.name;
        out["family"] = m.family->name;
        out["params"] = engine::to_json(Value{m.params.values()});
        return out;
    });
    return to_python(j);
}

py::object load_accelerator_py(const py::object& source, const py::object& overrides) {
    Document d = load_document(source, "load_accelerator", "source");
    const std::vector<std::string> sets = as_overrides(overrides, "load_accelerator");
    engine::PluginHost& plugins = host();
    const nlohmann::json j = call_engine([&] {
        if (!d.diags.empty() && d.root.kind == config::Node::Kind::null) d.diags.throw_if_any();
        for (const auto& ov : sets) config::apply_override(d.root, ov, d.diags);
        const engine::Accelerator a = engine::load_accelerator(std::move(d.root), std::move(d.diags), d.file, plugins);
        nlohmann::json units = nlohmann::json::array();
        for (const auto& u : a.units) units.push_back(u.name);
        return nlohmann::json{{"name", a.name}, {"area_mm2", a.area_mm2()}, {"clock_hz", a.clock_hz}, {"units", units}};
    });
    return to_python(j);
}

py::list plugins_py(const py::object& kind) {
    std::optional<PluginKind> k;
    if (!kind.is_none()) {
        const std::string name = as_str(kind, "plugins", "kind");
        for (PluginKind pk : {PluginKind::model, PluginKind::pruning, PluginKind::component, PluginKind::search, PluginKind::accuracy})
            if (name == to_string(pk)) k = pk;
        if (!k) throw py::value_error(fmt::format("plugins(): kind must be one of model, pruning, component, search, accuracy; got '{}'", name));
    }
    py::list out;
    for (const auto* p : host().list(k)) out.append(to_python(engine::plugin_summary_json(*p)));
    return out;
}

py::object describe_plugin_py(const py::object& name) {
    const std::string n = as_str(name, "describe_plugin", "name");
    engine::PluginHost& plugins = host();
    return to_python(call_engine([&] { return engine::plugin_description_json(engine::find_plugin_to_describe(plugins, n)); }));
}

py::object read_store_py(const py::object& path) {
    if (!is_path(path)) wrong_type("read_store", "path", "a path (str or os.PathLike)", path);
    fs::path file = as_path(path);
    std::error_code ec;
    if (fs::is_directory(file, ec)) file /= "search.db";
    return to_python(call_engine([&] { return engine::read_evaluations(file); }));
}

// The prefix the module was installed (or built) under: its folder is <prefix>/TRANSCODE_PYTHON_SUBDIR.
fs::path module_prefix() {
    fs::path prefix = fs::path(boost::dll::this_line_location().string()).parent_path();
    const fs::path subdir = TRANSCODE_PYTHON_SUBDIR;
    for (auto it = subdir.begin(); it != subdir.end(); ++it) prefix = prefix.parent_path();
    return prefix;
}

}  // namespace

PYBIND11_MODULE(transcode, m) {
    m.doc() = "transcode: simulate transformers on accelerators (ELECTOR), prune them (DynaProp) and co-design both (TransCODE).";
    engine::set_install_prefix(module_prefix());
    // Log lines (progress, warnings) go to stderr, as with the CLI; quiet=True (the default) keeps warnings only.
    if (!spdlog::get("transcode")) {
        auto logger = spdlog::stderr_color_mt("transcode");
        logger->set_pattern("[%H:%M:%S] %v");
        spdlog::set_default_logger(logger);
    }
    set_log_level(true);

    py::dict scope = m.attr("__dict__").cast<py::dict>();
    py::exec(exception_source, scope);
    config_error_class() = m.attr("ConfigError");
    plugin_error_class() = m.attr("PluginError");
    m.attr("ConfigError").attr("__module__") = "transcode";
    m.attr("PluginError").attr("__module__") = "transcode";

    m.attr("__version__") = engine::engine_version();
    m.attr("SDK_ABI_VERSION") = TRANSCODE_SDK_ABI_VERSION;
    m.attr("install_prefix") = engine::install_prefix().string();

    py::class_<Result>(m, "Result",
                       "The results of a run: results.json as a read-only mapping (r['latency']['cycles']), the output folder `out`, and "
                       "for a simulation the per-op table of ops.csv (`ops`, `ops_array()`).")
        .def("__getitem__", [](const Result& r, const py::object& key) { return py::object(r.doc[key]); })
        .def("__contains__", [](const Result& r, const py::object& key) { return r.doc.contains(key); })
        .def("__iter__", [](const Result& r) { return py::iter(r.doc); })
        .def("__len__", [](const Result& r) { return r.doc.size(); })
        .def("keys", [](const Result& r) { return r.doc.attr("keys")(); })
        .def("items", [](const Result& r) { return r.doc.attr("items")(); })
        .def("get", [](const Result& r, const py::object& key, const py::object& d) { return r.doc.attr("get")(key, d); }, py::arg("key"),
             py::arg("default") = py::none())
        .def("to_dict", [](const Result& r) { return py::module_::import("copy").attr("deepcopy")(r.doc); },
             "A copy of results.json as a dict")
        .def_property_readonly("out", [](const Result& r) { return r.out; }, "The output folder (results.json, ops.csv, ...)")
        .def_property_readonly("ops", &ops_rows, "The per-op table (ops.csv) as a list of dicts; [] when the run simulated nothing")
        .def("ops_array", &ops_array, "The per-op table (ops.csv) as a numpy structured array (int64, float64 and str columns)")
        .def("__repr__", [](const Result& r) {
            const py::object experiment = r.doc.attr("get")("experiment", py::dict());
            auto field = [](const py::object& d, const char* key) { return py::str(d.attr("get")(key, "")).cast<std::string>(); };
            return fmt::format("<transcode.Result of '{}' (kind {}), status {}, in {}>", field(experiment, "name"), field(experiment, "kind"),
                               field(r.doc, "status"), r.out);
        });

    m.def("simulate", &simulate_py,
          "Simulates a model on an accelerator, as `transcode simulate` does, and returns its results.\n\n"
          "model, accelerator: a file path or a dict (the file's content; relative includes from the current directory).\n"
          "mode: 'inference' or 'training'; fidelity: 'event' or 'analytic'.\n"
          "overrides: {'simulation.sparsity.activation': 0.5, ...} or ['PATH=VALUE', ...], as --set.\n"
          "out: the output folder (default out/simulate-<model>-<accelerator>, as the CLI).",
          py::arg("model"), py::arg("accelerator"), py::arg("mode") = "inference", py::arg("fidelity") = "event", py::arg("overrides") = py::none(),
          py::arg("out") = py::none(), py::arg("quiet") = true);
    m.def("run", &run_py,
          "Runs an experiment (a file path or a dict), as `transcode run` does, and returns its results.\n\n"
          "out: the output folder (default out/<experiment name>); threads, resume (kinds codesign and sweep): as the CLI's options.",
          py::arg("experiment"), py::arg("overrides") = py::none(), py::arg("out") = py::none(), py::arg("threads") = 1, py::arg("resume") = false,
          py::arg("quiet") = true);
    m.def("validate", &validate_py,
          "Checks an experiment, model, accelerator or design-space file (or dict) as `transcode validate` does; returns what it is, e.g. "
          "\"ok (experiment 'quickstart', kind simulate)\", or raises ConfigError.",
          py::arg("source"), py::arg("overrides") = py::none());
    m.def("load_model", &load_model_py,
          "Loads and validates a model file (or dict); returns what `transcode model describe --json` prints (per-section parameters, FLOPs, "
          "activation bytes).",
          py::arg("source"), py::arg("overrides") = py::none(), py::arg("training") = false);
    m.def("load_accelerator", &load_accelerator_py,
          "Loads and validates an accelerator file (or dict); returns its name, area_mm2, clock_hz and unit groups.", py::arg("source"),
          py::arg("overrides") = py::none());
    m.def("plugins", &plugins_py, "The loaded plugins, as `transcode plugins list --json`: a list of dicts (name, kind, library, version, file, doc).",
          py::arg("kind") = py::none());
    m.def("describe_plugin", &describe_plugin_py,
          "A plugin's documentation and parameter schema, as `transcode plugins describe NAME --json`.", py::arg("name"));
    m.def("read_store", &read_store_py,
          "The evaluations of a co-design search database (search.db, or the output folder holding it): a list of dicts, one per "
          "evaluation, keyed by column (candidate, encoding and accuracy_details parsed from JSON).",
          py::arg("path"));
}
