#include "cli/commands.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "codesign/codesign_run.hpp"
#include "distributed/mpi_session.hpp"
#include "common/atomic_file.hpp"
#include "common/output_folder.hpp"
#include "config/schema_validation.hpp"
#include "design_space/design_space_file.hpp"
#include "config/diagnostics.hpp"
#include "experiment/experiment.hpp"
#include "experiment/experiment_runner.hpp"
#include "experiment/experiment_results.hpp"
#include "experiment/sparsity_probe.hpp"
#include "experiment/training_run.hpp"
#include "graph/model_summary.hpp"
#include "importers/acceltran_config.hpp"
#include "importers/acceltran_model.hpp"
#include "plugin_host/plugin_host.hpp"
#include "plugin_host/plugin_json.hpp"
#include "report/html_report.hpp"
#include "report/json_schema.hpp"
#include "report/results_folder.hpp"
#include "report/simulation_report.hpp"
#include "report/results.hpp"
#include "tokenizer/wordpiece.hpp"
#include "transcode/accuracy.hpp"

namespace fs = std::filesystem;

namespace transcode::cli {

namespace {

const std::vector<std::string> kind_names{"model", "pruning", "component", "search", "accuracy"};

PluginKind parse_kind(const std::string& k) {
    for (PluginKind pk : {PluginKind::model, PluginKind::pruning, PluginKind::component, PluginKind::search, PluginKind::accuracy})
        if (k == to_string(pk)) return pk;
    throw InternalError("unknown plugin kind " + k);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string show_value(const Value& v) {
    if (v.is_string()) return v.as_string().empty() ? "\"\"" : v.as_string();
    return engine::to_json(v).dump();
}

std::string range_text(const ParamSpec& s) {
    std::string out;
    if (s.min()) out += fmt::format("{} {}", s.min_exclusive() ? ">" : ">=", *s.min());
    if (s.max()) out += fmt::format("{}<= {}", out.empty() ? "" : ", ", *s.max());
    if (s.type() == ParamType::list && !out.empty()) out = "length " + out;
    return out;
}

// `name: doc [default|<required>] (unit)`, then type, range and choices on the next line.
void print_spec(const ParamSpec& s, int indent) {
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    std::string line = fmt::format("{}{}: {}", pad, s.name(), s.doc());
    if (s.is_required())
        line += " [<required>]";
    else if (s.default_value())
        line += fmt::format(" [{}]", show_value(*s.default_value()));
    if (!s.unit().empty()) line += fmt::format(" ({})", s.unit());
    fmt::print("{}\n", line);
    std::string detail = to_string(s.type());
    if (s.element() != nullptr) detail += fmt::format(" of {}", to_string(s.element()->type()));
    const ParamSpec& constrained = s.element() != nullptr ? *s.element() : s;
    if (const std::string r = range_text(s); !r.empty()) detail += "; " + r;
    if (s.element() != nullptr)
        if (const std::string r = range_text(*s.element()); !r.empty()) detail += "; each " + r;
    if (!constrained.choices().empty()) {
        std::string c;
        for (const auto& x : constrained.choices()) c += (c.empty() ? "" : ", ") + x;
        detail += "; one of: " + c;
    }
    fmt::print("{}    {}\n", pad, detail);
    if (s.fields() != nullptr)
        for (const auto& f : *s.fields()) print_spec(f, indent + 4);
}

void configure_logging(bool quiet) {
    auto logger = spdlog::stderr_color_mt("transcode");
    logger->set_pattern("[%H:%M:%S] %v");
    logger->set_level(quiet ? spdlog::level::warn : spdlog::level::info);
    spdlog::set_default_logger(logger);
}

engine::PluginHost& host() {
    static engine::PluginHost h;
    static bool loaded = false;
    if (!loaded) {
        loaded = true;
        h.load_defaults();
        for (const std::string& s : h.skipped()) fmt::print(stderr, "warning: {}\n", s);
    }
    return h;
}

int finish(const engine::Experiment& ex, const Options& o, std::chrono::steady_clock::time_point start,
           engine::distributed::WorkPool* pool = nullptr) {
    const engine::RunSettings settings{o.out_dir, static_cast<unsigned>(std::max(1, o.threads)), o.resume, o.quiet, pool};
    const fs::path out = settings.out.empty() ? engine::default_output_folder(ex) : settings.out;
    const nlohmann::json doc = engine::run_experiment(ex, host(), settings);
    // Printed with --quiet too: the one line that says where the results are, with the status
    // results.json gives ("infeasible" with its reason: the run worked, the design does not).
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string status = doc.contains("status") && doc["status"].is_string() ? doc["status"].get<std::string>() : "ok";
    const std::string reason = doc.contains("reason") && doc["reason"].is_string() ? " (" + doc["reason"].get<std::string>() + ")" : "";
    fmt::print("  status {}{}, {:.3f} s; results: {}\n", status, reason, secs, (out / "results.json").string());
    return 0;
}

// The exit status main() gives the exception being handled (cli/main.cpp's mapping): what rank 0
// sends the worker ranks, so that every rank of a failed job exits with it.
int exit_status_of_current_exception() {
    try {
        throw;
    } catch (const ConfigError&) {
        return 2;
    } catch (const PluginError&) {
        return 2;
    } catch (...) {
        return 1;
    }
}

// `transcode run` started by mpirun or srun: every rank loads the experiment; rank 0 runs it as a
// plain run would, with a pool over all ranks (distributed/), and alone writes the output folder,
// logs and prints; the other ranks evaluate what rank 0 sends until it says stop, quietly.
int cmd_run_mpi(const Options& o) {
    engine::distributed::MpiSession session;  // a ConfigError when built without MPI
    if (session.rank() != 0) {
        configure_logging(true);
        spdlog::set_level(spdlog::level::off);
        std::optional<engine::Experiment> ex;
        engine::distributed::WorkFunction work;
        try {
            ex.emplace(engine::load_experiment(o.experiment, o.overrides, host()));
            work = engine::worker_function(*ex, host());
        } catch (...) {
            // Rank 0 loads the same files and reports the same error; should this rank alone fail,
            // each item it is sent fails with the reason, naming the rank, and rank 0 reports it.
            work = [error = engine::distributed::current_work_error(), rank = session.rank()](const std::string&) -> std::string {
                engine::distributed::throw_work_error(error, fmt::format("MPI rank {}", rank));
            };
        }
        return session.serve(work);
    }
    configure_logging(o.quiet);
    const auto start = std::chrono::steady_clock::now();
    if (engine::distributed::cpus_this_process_may_use() == 1 && std::thread::hardware_concurrency() > 1)
        spdlog::warn("MPI rank 0 is bound to one core, which its dispatch loop and its evaluating thread share; start the job with "
                     "`mpirun --bind-to none` (Open MPI binds each rank to a core when it starts two or fewer), or give each rank "
                     "two or more cores (Slurm: --cpus-per-task)");
    try {
        const engine::Experiment ex = engine::load_experiment(o.experiment, o.overrides, host());
        const std::unique_ptr<engine::distributed::WorkPool> pool = session.pool();
        const int status = finish(ex, o, start, pool.get());
        session.stop_workers(status);
        return status;
    } catch (...) {
        session.stop_workers(exit_status_of_current_exception());
        throw;
    }
}

int cmd_run(const Options& o) {
    if (engine::distributed::launched_by_mpi()) return cmd_run_mpi(o);
    configure_logging(o.quiet);
    const auto start = std::chrono::steady_clock::now();
    const engine::Experiment ex = engine::load_experiment(o.experiment, o.overrides, host());
    return finish(ex, o, start);
}

// `transcode simulate`: an experiment made from the command line.
int cmd_simulate(const Options& o) {
    configure_logging(o.quiet);
    const auto start = std::chrono::steady_clock::now();
    engine::SimulateRequest request;
    request.name = fmt::format("simulate-{}-{}", fs::path(o.model_file).stem().string(), fs::path(o.accelerator_file).stem().string());
    request.model = engine::include_section(o.model_file);
    request.accelerator = engine::include_section(o.accelerator_file);
    request.mode = o.mode;
    request.fidelity = o.fidelity;
    request.overrides = o.overrides;
    const engine::Experiment ex = engine::load_simulate_experiment(request, host());
    return finish(ex, o, start);
}

int cmd_model_describe(const Options& o) {
    engine::PluginHost& plugins = host();
    const engine::LoadedModel m = engine::load_model_file(o.experiment, o.overrides, plugins);
    const engine::ModelSummary s = engine::summarize(engine::step_graph(m, o.training, engine::OptimizerSettings{}));
    if (o.json) {
        nlohmann::json j = engine::to_json(s);
        j["name"] = m.name;
        j["family"] = m.family->name;
        j["params"] = engine::to_json(Value{m.params.values()});
        fmt::print("{}\n", j.dump(2));
        return 0;
    }
    engine::print_model_summary(m.name, m.family->name, s);
    return 0;
}

int cmd_import_model(const Options& o) {
    fmt::print("{}", engine::import_acceltran_model(o.experiment));
    return 0;
}

void write_text(const fs::path& file, const std::string& text) {
    engine::write_file_atomically(file, text, "", "does the folder exist, and is it writable?");
}

// The accelerator goes to -o FILE (its includes relative to FILE's folder) or to stdout (relative
// to the current directory); --experiment-out also writes the companion experiment, which is then
// loaded as `transcode validate` would.
int cmd_import_config(const Options& o) {
    const fs::path configs = engine::shipped_configs_dir();
    if (configs.empty())
        throw ConfigError("cannot find the shipped configs/ (looked in share/transcode/configs beside the executable's folder, and in the "
                          "source tree's configs/): the imported accelerator includes the component figures of configs/components/");
    const bool to_stdout = o.import_out.empty();
    const fs::path out_dir = to_stdout || fs::path(o.import_out).parent_path().empty() ? fs::current_path() : fs::path(o.import_out).parent_path();
    const engine::ComponentIncludes includes = engine::component_includes(configs / "components", out_dir, to_stdout);
    std::vector<std::string> notes;
    engine::ImportedAccelerator imported;
    try {
        imported = engine::import_acceltran_accelerator(o.experiment, o.import_name, notes, includes);
    } catch (const ConfigError&) {
        for (const auto& n : notes) fmt::print(stderr, "{}\n", n);
        throw;
    }
    for (const auto& n : notes) fmt::print(stderr, "{}\n", n);
    if (to_stdout) {
        fmt::print("{}", imported.yaml);
        return 0;
    }
    write_text(o.import_out, imported.yaml);
    fmt::print(stderr, "wrote {}\n", o.import_out);
    if (o.experiment_out.empty()) return 0;
    write_text(o.experiment_out, engine::acceltran_companion_experiment(o.experiment, imported.batch_size, o.model_file, o.import_out, o.experiment_out));
    const engine::Experiment ex = engine::load_experiment(o.experiment_out, {}, host());
    fmt::print(stderr, "wrote {} (experiment '{}': {} at batch size {}; run it with `transcode run {}`)\n", o.experiment_out, ex.name, ex.model ? ex.model->name : "the model",
               imported.batch_size, o.experiment_out);
    return 0;
}

int cmd_validate(const Options& o) {
    engine::PluginHost& plugins = host();
    int bad = 0;
    for (const auto& f : o.files) {
        try {
            fmt::print("{}: {}\n", f, engine::validate_file(f, o.overrides, plugins));
        } catch (const ConfigError& e) {
            ++bad;
            fmt::print(stderr, "{}\n", e.what());
        }
    }
    if (bad > 0) {
        fmt::print(stderr, "{} of {} file(s) invalid\n", bad, o.files.size());
        return 2;
    }
    return 0;
}

int cmd_plugins_list(const Options& o) {
    engine::PluginHost& plugins = host();
    const auto items = o.kind.empty() ? plugins.list() : plugins.list(parse_kind(o.kind));
    if (o.json) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto* p : items)
            a.push_back(engine::plugin_summary_json(*p));
        fmt::print("{}\n", a.dump(2));
        return 0;
    }
    fmt::print("{:<24} {:<10} {:<12} {:<8} {}\n", "NAME", "KIND", "LIBRARY", "VERSION", "DESCRIPTION");
    for (const auto* p : items) fmt::print("{:<24} {:<10} {:<12} {:<8} {}\n", p->name, to_string(p->kind), p->library, p->version, first_line(p->doc));
    return 0;
}

int cmd_plugins_describe(const Options& o) {
    engine::PluginHost& plugins = host();
    const engine::PluginInfo* info = &engine::find_plugin_to_describe(plugins, o.plugin_name);
    if (o.json) {
        fmt::print("{}\n", engine::plugin_description_json(*info).dump(2));
        return 0;
    }
    fmt::print("{} ({} plugin, library {} {}, {})\n", info->name, to_string(info->kind), info->library, info->version, info->file.string());
    fmt::print("  {}\n", [&] {
        std::string d = info->doc;
        for (std::size_t p = d.find('\n'); p != std::string::npos; p = d.find('\n', p + 3)) d.replace(p, 1, "\n  ");
        return d;
    }());
    fmt::print("parameters:\n");
    if (info->schema.empty()) fmt::print("  (none)\n");
    for (const auto& s : info->schema) print_spec(s, 2);
    return 0;
}

int cmd_schema(const Options& o) {
    engine::PluginHost& plugins = host();
    const nlohmann::json j = o.kind == "model"          ? engine::model_json_schema(plugins)
                             : o.kind == "accelerator"  ? engine::accelerator_json_schema(plugins)
                             : o.kind == "component"    ? engine::component_json_schema(plugins)
                             : o.kind == "design_space" ? engine::design_space_json_schema()
                                                        : engine::experiment_json_schema(engine::experiment_schema(), plugins);
    fmt::print("{}\n", j.dump(2));
    return 0;
}

// BERT's tokenisation of one sentence or a pair: a row per real token (position, piece, id,
// segment), then the length, the padding and whether it was truncated.
int cmd_tokenize(const Options& o) {
    for (std::size_t k = 0; k < o.texts.size(); ++k)
        if (const std::size_t bad = config::invalid_utf8_at(o.texts[k]); bad != std::string::npos)
            throw ConfigError(fmt::format("error: text {} is not valid UTF-8 (byte {} is 0x{:02X})", k + 1, bad + 1, static_cast<unsigned char>(o.texts[k][bad])));
    const engine::WordPieceTokenizer tokenizer(engine::Vocabulary::load(o.vocabulary));
    const engine::Encoding e = o.texts.size() == 2 ? tokenizer.encode(o.texts[0], o.texts[1], o.sequence_length) : tokenizer.encode(o.texts[0], o.sequence_length);
    const auto real = static_cast<std::size_t>(e.length);
    if (o.json) {
        nlohmann::json pieces = nlohmann::json::array();
        for (std::size_t i = 0; i < real; ++i) pieces.push_back(tokenizer.vocabulary().token(e.ids[i]));
        const nlohmann::json j{{"pieces", pieces},
                               {"ids", std::vector<std::int32_t>(e.ids.begin(), e.ids.begin() + e.length)},
                               {"segments", std::vector<std::int32_t>(e.segments.begin(), e.segments.begin() + e.length)},
                               {"length", e.length},
                               {"sequence_length", o.sequence_length},
                               {"truncated", e.truncated}};
        fmt::print("{}\n", j.dump(2));
        return 0;
    }
    fmt::print("{:>8}  {:<20} {:>6} {:>7}\n", "position", "piece", "id", "segment");
    for (std::size_t i = 0; i < real; ++i) fmt::print("{:>8}  {:<20} {:>6} {:>7}\n", i, tokenizer.vocabulary().token(e.ids[i]), e.ids[i], e.segments[i]);
    fmt::print("length {} of {} ({} [PAD] after), truncated: {}\n", e.length, o.sequence_length, o.sequence_length - e.length, e.truncated ? "yes" : "no");
    return 0;
}

// `transcode accuracy fit`: creates the accuracy estimator of an experiment (or accuracy.surrogate
// on --csv) and, with --report, prints its k-fold held-out metrics against the constant predictor.
int cmd_accuracy_fit(const Options& o) {
    engine::PluginHost& plugins = host();
    if (o.experiment.empty() == o.csv.empty())
        throw ConfigError("error: accuracy fit needs an experiment file (its accuracy: section) or --csv FILE (accuracy.surrogate), not both");
    if (o.folds < 2) throw ConfigError(fmt::format("error: --folds must be at least 2, got {}", o.folds));
    const engine::PluginInfo* info = nullptr;
    Params params;
    std::string what;
    if (!o.csv.empty()) {
        info = plugins.find("surrogate", PluginKind::accuracy);
        if (info == nullptr) throw ConfigError("error: the accuracy.surrogate plugin is not loaded");
        // The csv and each --set key=value become the plugin's params, validated by its schema.
        std::string yaml = "csv: " + nlohmann::json(fs::absolute(o.csv).string()).dump();
        for (const auto& ov : o.overrides) {
            const auto eq = ov.find('=');
            if (eq == std::string::npos || eq == 0)
                throw ConfigError(fmt::format("error: --set '{}': give KEY=VALUE, a parameter of accuracy.surrogate (see `transcode plugins describe surrogate`)", ov));
            yaml += "\n" + ov.substr(0, eq) + ": " + ov.substr(eq + 1);
        }
        params = config::parse_params(info->schema, yaml, "--set");
        what = fs::path(o.csv).filename().string();
    } else {
        const engine::Experiment ex = engine::load_experiment(o.experiment, o.overrides, plugins);
        if (!ex.codesign)
            throw ConfigError(fmt::format("{}: error: experiment '{}' is of kind {}; accuracy fit reads the accuracy: section of a codesign experiment",
                                          o.experiment, ex.name, ex.kind));
        info = ex.codesign->accuracy.info;
        params = ex.codesign->accuracy.params;
        what = fmt::format("experiment '{}'", ex.name);
    }
    engine::PluginPtr<AccuracyEstimator> estimator;
    try {
        estimator = plugins.create<AccuracyEstimator>(*info, params);
    } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("error: {}", e.what()));
    }
    if (!o.report) {
        fmt::print("{}: {} fitted; add --report for its {}-fold held-out metrics\n", what, info->name, o.folds);
        return 0;
    }
    HeldOutReport r;
    try {
        r = estimator->held_out(static_cast<std::size_t>(o.folds), o.seed);
    } catch (const ConfigError& e) {
        if (e.path() == "held_out") throw ConfigError(fmt::format("error: {} {}", info->name, e.what()));
        throw ConfigError(fmt::format("error: {}", e.what()));
    }
    fmt::print("{}\n", r.description);
    fmt::print("held-out: {} rows, {} folds, seed {} (hyper-parameters refitted on each fold's training rows)\n", r.rows, r.folds, r.seed);
    fmt::print("  {:<26} {:>10} {:>10} {:>9}\n", "predictor", "MAE", "RMSE", "Spearman");
    fmt::print("  {:<26} {:>10} {:>10} {:>9}\n", "", "(accuracy)", "(accuracy)", "");
    fmt::print("  {:<26} {:>10.4f} {:>10.4f} {:>9.3f}\n", info->name, r.model.mae, r.model.rmse, r.model.spearman);
    fmt::print("  {:<26} {:>10.4f} {:>10.4f} {:>9.3f}\n", "constant (training mean)", r.constant.mae, r.constant.rmse, r.constant.spearman);
    fmt::print("  calibration: {:.1f}% of held-out rows within 1 predictive std (Gaussian: 68.3%), {:.1f}% within 2 (95.4%)\n",
               100 * r.within_1_stddev, 100 * r.within_2_stddev);
    return 0;
}

// `transcode report OUT_DIR`: a self-contained HTML page of a finished run's results.
int cmd_report(const Options& o) {
    const engine::ResultsFolder folder = engine::read_results_folder(o.experiment);
    const std::size_t charts = engine::report_charts(folder).size();
    const fs::path file = o.report_out.empty() ? fs::path(o.experiment) / "report.html" : fs::path(o.report_out);
    engine::write_file_atomically(file, engine::render_html_report(folder), "", "does the folder exist, and is it writable?");
    fmt::print("wrote {} ({} charts, kind {})\n", file.string(), charts, folder.results["experiment"]["kind"].get<std::string>());
    return 0;
}

int cmd_version() {
    fmt::print("{}\n", version_line());
    return 0;
}

}  // namespace

void add_commands(CLI::App& app, Options& o) {
    auto* run = app.add_subcommand("run", "Run an experiment file and write results.json");
    run->add_option("experiment", o.experiment, "Experiment YAML file")->required()->check(CLI::ExistingFile);
    run->add_option("--out", o.out_dir, "Output folder (default: out/<experiment name>)");
    run->add_option("--set", o.overrides, "Override a config field: PATH=VALUE, e.g. --set seed=7 (repeatable)")->allow_extra_args(false);
    run->add_option("--threads", o.threads, "Worker threads (results do not depend on it)")
        ->check(CLI::Range(1, 1024))
        ->default_val(std::max(1u, std::thread::hardware_concurrency()));
    run->add_flag("--quiet,-q", o.quiet, "Print only warnings and errors");
    run->add_flag("--resume", o.resume, "kinds codesign and sweep: carry on the search stored in the output folder's search.db, or the sweep in its sweep.db (after a crash or kill)");

    auto* simulate = app.add_subcommand("simulate", "Simulate a model on an accelerator (no experiment file needed) and write results.json, ops.csv, trace.json");
    simulate->add_option("--model", o.model_file, "Model YAML file (configs/models/)")->required()->check(CLI::ExistingFile);
    simulate->add_option("--accelerator", o.accelerator_file, "Accelerator YAML file (configs/accelerators/)")->required()->check(CLI::ExistingFile);
    simulate->add_option("--mode", o.mode, "inference (default) or training (forward, backward and update)")->check(CLI::IsMember({"inference", "training"}));
    simulate->add_option("--fidelity", o.fidelity, "event (default: tile-level schedule) or analytic (per-op closed forms)")
        ->check(CLI::IsMember({"event", "analytic"}));
    simulate->add_option("--out", o.out_dir, "Output folder (default: out/simulate-<model>-<accelerator>)");
    simulate->add_option("--set", o.overrides, "Override a field of the generated experiment, e.g. --set simulation.sparsity.activation=0.5 (repeatable)")
        ->allow_extra_args(false);
    simulate->add_option("--threads", o.threads, "Worker threads (results do not depend on it)")
        ->check(CLI::Range(1, 1024))
        ->default_val(std::max(1u, std::thread::hardware_concurrency()));
    simulate->add_flag("--quiet,-q", o.quiet, "Print only warnings and errors");

    auto* validate = app.add_subcommand("validate", "Check experiment files, including every plugin parameter; runs nothing");
    validate->add_option("files", o.files, "YAML files to check")->required();
    validate->add_option("--set", o.overrides, "Override a config field: PATH=VALUE (repeatable)")->allow_extra_args(false);

    auto* plugins = app.add_subcommand("plugins", "List and describe the loaded plugins");
    plugins->require_subcommand(1);
    auto* list = plugins->add_subcommand("list", "List plugins: name, kind, library, version, description");
    list->add_option("--kind", o.kind, "Only plugins of this kind")->check(CLI::IsMember(kind_names));
    list->add_flag("--json", o.json, "Print JSON");
    auto* describe = plugins->add_subcommand("describe", "Show a plugin's documentation and parameter schema");
    describe->add_option("name", o.plugin_name, "Plugin name, qualified (library.component) or short")->required();
    describe->add_flag("--json", o.json, "Print JSON");

    auto* model = app.add_subcommand("model", "Inspect model files");
    model->require_subcommand(1);
    auto* describe_model = model->add_subcommand("describe", "Per-section parameters, FLOPs of each phase, and activation memory of a model");
    describe_model->add_option("model", o.experiment, "Model YAML file")->required()->check(CLI::ExistingFile);
    describe_model->add_flag("--training", o.training, "Describe the full training step (forward, backward, update) instead of inference");
    describe_model->add_flag("--json", o.json, "Print JSON");
    describe_model->add_option("--set", o.overrides, "Override a field: PATH=VALUE (repeatable)")->allow_extra_args(false);

    auto* import = app.add_subcommand("import", "Convert files of the earlier AccelTran/TransCODE tools");
    import->require_subcommand(1);
    auto* import_model = import->add_subcommand("acceltran-model", "Print a model dictionary ({l, o, h, f} JSON) as transcode model YAML");
    import_model->add_option("file", o.experiment, "AccelTran model dictionary (JSON)")->required()->check(CLI::ExistingFile);
    auto* import_config = import->add_subcommand(
        "acceltran-config",
        "Convert an AccelTran accelerator config (YAML or JSON) to transcode accelerator YAML; its includes lead to the shipped component figures "
        "from where it is written");
    import_config->add_option("file", o.experiment, "AccelTran accelerator config (YAML or JSON)")->required()->check(CLI::ExistingFile);
    import_config->add_option("--name", o.import_name, "The accelerator's name (default: the file's stem)");
    auto* import_out = import_config->add_option("-o,--out", o.import_out,
                                                 "Write the accelerator to this file, its includes relative to the file's folder (default: print it, "
                                                 "its includes relative to the current directory)");
    auto* experiment_out = import_config->add_option("--experiment-out", o.experiment_out,
                                                     "Also write an experiment (kind simulate) that runs --model on the written accelerator at "
                                                     "AccelTran's batch_size (simulation.batch_size), and validate it");
    auto* experiment_model = import_config->add_option("--model", o.model_file, "The model file of --experiment-out (e.g. configs/models/bert-tiny.yaml)")
                                 ->check(CLI::ExistingFile);
    experiment_out->needs(import_out)->needs(experiment_model);
    experiment_model->needs(experiment_out);

    auto* tokenize = app.add_subcommand("tokenize", "Tokenise a sentence (or a pair) as BERT does: WordPiece pieces, ids, segment ids, length");
    tokenize->add_option("--vocabulary", o.vocabulary, "WordPiece vocabulary file (e.g. data/wordpiece/bert-base-uncased-vocab.txt)")->required();
    tokenize->add_option("--sequence-length", o.sequence_length, "Tokens after framing and padding (default 128)")->check(CLI::Range(2, 1 << 20));
    tokenize->add_option("text", o.texts, "The sentence, and optionally the second sentence of a pair")->required()->expected(1, 2);
    tokenize->add_flag("--json", o.json, "Print JSON");

    auto* schema = app.add_subcommand("schema", "Print the JSON Schema of experiment, model, accelerator, component or design-space files, with every loaded plugin's parameters, for editors");
    schema->add_option("--file-kind", o.kind, "experiment (default), model, accelerator, component or design_space")
        ->check(CLI::IsMember({"experiment", "model", "accelerator", "component", "design_space"}));

    auto* accuracy = app.add_subcommand("accuracy", "Fit and cross-validate accuracy estimators");
    accuracy->require_subcommand(1);
    auto* fit = accuracy->add_subcommand(
        "fit", "Fit an experiment's accuracy estimator (or accuracy.surrogate on --csv); --report prints its k-fold held-out metrics");
    fit->add_option("experiment", o.experiment, "A codesign experiment YAML file: its accuracy: plugin and params")->check(CLI::ExistingFile);
    fit->add_option("--csv", o.csv, "Instead of an experiment: fit accuracy.surrogate on this CSV");
    fit->add_option("--set", o.overrides,
                    "With an experiment: override a config field, PATH=VALUE; with --csv: a parameter of accuracy.surrogate, KEY=VALUE (repeatable)")
        ->allow_extra_args(false);
    fit->add_option("--folds", o.folds, "Folds of the held-out report (at least 2; default 5)");
    fit->add_option("--seed", o.seed, "Seed of the fold shuffle (default 1)");
    fit->add_flag("--report", o.report, "Cross-validate and print MAE, RMSE, Spearman and calibration against the constant predictor");

    auto* report = app.add_subcommand("report", "Write a self-contained HTML report (Vega-Lite charts, works offline) of a run's output folder");
    report->add_option("folder", o.experiment, "The output folder of a finished run (holding results.json)")->required();
    report->add_option("-o,--out", o.report_out, "Write the report to this file (default: FOLDER/report.html)");

    app.add_subcommand("version", "Print the engine version and the SDK ABI version");
}

std::string version_line() { return fmt::format("transcode {} (SDK ABI {})", engine::engine_version(), TRANSCODE_SDK_ABI_VERSION); }

int run_selected(CLI::App& app, const Options& o) {
    if (app.got_subcommand("run")) return cmd_run(o);
    if (app.got_subcommand("simulate")) return cmd_simulate(o);
    if (app.got_subcommand("validate")) return cmd_validate(o);
    if (app.got_subcommand("version")) return cmd_version();
    if (app.got_subcommand("report")) return cmd_report(o);
    if (app.got_subcommand("schema")) return cmd_schema(o);
    if (app.got_subcommand("tokenize")) return cmd_tokenize(o);
    if (auto* model = app.get_subcommand("model"); model->parsed()) return cmd_model_describe(o);
    if (auto* accuracy = app.get_subcommand("accuracy"); accuracy->parsed()) return cmd_accuracy_fit(o);
    if (auto* import = app.get_subcommand("import"); import->parsed())
        return import->got_subcommand("acceltran-config") ? cmd_import_config(o) : cmd_import_model(o);
    if (auto* plugins = app.get_subcommand("plugins"); plugins->parsed()) {
        if (plugins->got_subcommand("list")) return cmd_plugins_list(o);
        if (plugins->got_subcommand("describe")) return cmd_plugins_describe(o);
    }
    throw InternalError("no command selected");
}

}  // namespace transcode::cli
