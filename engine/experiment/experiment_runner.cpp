#include "experiment/experiment_runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "codesign/codesign_run.hpp"
#include "common/output_folder.hpp"
#include "design_space/design_space_file.hpp"
#include "experiment/experiment_results.hpp"
#include "experiment/sparsity_probe.hpp"
#include "experiment/training_run.hpp"
#include "report/results.hpp"
#include "report/simulation_report.hpp"
#include "sweep/sweep_run.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }  // a JSON string is a YAML string

std::string si(double v, const char* unit) {
    const char* prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
    int i = 0;
    while (std::abs(v) >= 1000.0 && i < 6) {
        v /= 1000.0;
        ++i;
    }
    return fmt::format("{:.4g} {}{}", v, prefixes[i], unit);
}

// Simulates the experiment's model on its accelerator and writes results, ops.csv and trace.json.
void run_simulation(const Experiment& ex, const fs::path& out, nlohmann::json& doc, bool quiet) {
    const bool training = ex.mode == RunMode::training;
    const ModelGraph step = step_graph(*ex.model, training, ex.optimizer);
    SimulationOptions so;
    so.fidelity = ex.simulation.fidelity;
    so.training = training;
    so.tensor_sparsity = sparsity_per_tensor(step, ex.simulation.sparsity);
    so.trace = ex.simulation.trace;
    spdlog::info("simulating {} ({} ops, {}) on {} at {} fidelity", ex.model->name, step.ops.size(), training ? "training step" : "inference",
                 ex.accelerator->name, to_string(so.fidelity));
    const auto t0 = std::chrono::steady_clock::now();
    const SimulationResult r = simulate(step, *ex.accelerator, so);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info("simulated {} tiles in {:.3f} s ({:.3g} tiles/s)", r.tiles, secs, secs > 0 ? static_cast<double>(r.tiles) / secs : 0.0);
    add_simulation_results(doc, step, *ex.accelerator, r, ex.simulation.sparsity, ex.simulation.sparsity_source);
    write_ops_csv(out / "ops.csv", step, *ex.accelerator, r);
    if (so.trace) write_trace_json(out / "trace.json", *ex.accelerator, r);
    if (!quiet) print_simulation_summary(ex.model->name, *ex.accelerator, r);
}

}  // namespace

std::string include_section(const fs::path& file) { return fmt::format("{{include: {}}}", quoted(file.string())); }

Experiment load_simulate_experiment(const SimulateRequest& request, PluginHost& host) {
    const std::string text = fmt::format("experiment: {}\nkind: simulate\nmode: {}\nmodel: {}\naccelerator: {}\nsimulation: {{fidelity: {}}}\n",
                                         quoted(request.name), quoted(request.mode), request.model, request.accelerator, quoted(request.fidelity));
    config::Diagnostics diags;
    config::Node root = config::load_string(text, "<simulate>", diags, fs::current_path());
    for (const auto& ov : request.overrides) config::apply_override(root, ov, diags);
    return load_experiment(std::move(root), std::move(diags), "<simulate>", host);
}

FileKind detect_file_kind(const config::Node& root, bool parsed) {
    if (root.find("experiment") != nullptr || root.find("kind") != nullptr) return FileKind::experiment;
    if (root.find("knobs") != nullptr && root.find("target") != nullptr) return FileKind::design_space;
    if (root.find("family") != nullptr || root.find("params") != nullptr) return FileKind::model;
    if (root.find("processing_elements") != nullptr || root.find("units") != nullptr) return FileKind::accelerator;
    return parsed && root.kind == config::Node::Kind::map ? FileKind::unknown : FileKind::experiment;
}

std::string validate_document(config::Node root, config::Diagnostics diags, const fs::path& file, const std::vector<std::string>& overrides,
                              PluginHost& host) {
    const FileKind kind = detect_file_kind(root, diags.empty());
    if (kind == FileKind::unknown)
        throw ConfigError(fmt::format("{}:1:1: error: (document): cannot tell what this file is: an experiment has an `experiment:` key, "
                                      "a model a `family:` key, an accelerator `processing_elements:` or `units:`, a design space `target:` "
                                      "and `knobs:` (kind)",
                                      file.string()));
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    for (const auto& ov : overrides) config::apply_override(root, ov, diags);
    switch (kind) {
        case FileKind::experiment: {
            const Experiment ex = load_experiment(std::move(root), std::move(diags), file, host);
            return fmt::format("ok (experiment '{}', kind {})", ex.name, ex.kind);
        }
        case FileKind::model: {
            const LoadedModel m = load_model(std::move(root), std::move(diags), file, host);
            return fmt::format("ok (model '{}', family {}, {} ops)", m.name, m.family->name, m.forward.ops.size());
        }
        case FileKind::accelerator: {
            const Accelerator a = load_accelerator(std::move(root), std::move(diags), file, host);
            return fmt::format("ok (accelerator '{}', {} unit groups, {:.3f} mm^2)", a.name, a.units.size(), a.area_mm2());
        }
        case FileKind::design_space: {
            const config::Node* target = root.find("target");
            const auto t = target != nullptr && target->scalar == "accelerator" ? SpaceSide::Target::accelerator : SpaceSide::Target::model;
            const SpaceSide side = load_space_side(root, "", t, host, diags);
            diags.throw_if_any();
            return fmt::format("ok (design space '{}', target {}, {} knobs, 10^{:.1f} candidates)", side.name,
                               t == SpaceSide::Target::model ? "model" : "accelerator", side.space.size(), side.space.log10_count());
        }
        case FileKind::unknown: break;
    }
    throw InternalError("validate_document: unhandled file kind");
}

std::string validate_file(const fs::path& file, const std::vector<std::string>& overrides, PluginHost& host) {
    config::Diagnostics diags;
    config::Node root = config::load_file(file, diags);
    return validate_document(std::move(root), std::move(diags), file, overrides, host);
}

ModelGraph step_graph(const LoadedModel& m, bool training, const OptimizerSettings& opt) {
    return training ? make_training_graph(m.forward, opt) : m.forward;
}

void print_model_summary(const std::string& name, const std::string& family, const ModelSummary& s) {
    fmt::print("{} ({}), {} step: {} parameters ({} without the task head), {} ops, {} tensors\n", name, family,
               s.training ? "training" : "inference", s.total.parameters, s.parameters_without_head, s.total.ops, s.tensors);
    fmt::print("  {:<12} {:>13} {:>13} {:>13} {:>13} {:>13}\n", "section", "parameters", "forward", "backward", "update", "activations");
    auto row = [](const SectionSummary& r) {
        fmt::print("  {:<12} {:>13} {:>13} {:>13} {:>13} {:>13}\n", r.name, r.parameters, si(r.forward_flops, "FLOP"), si(r.backward_flops, "FLOP"),
                   si(r.update_flops, "FLOP"), si(r.activation_bytes, "B"));
    };
    for (const auto& r : s.sections) row(r);
    row(s.total);
}

fs::path default_output_folder(const Experiment& ex) { return fs::path("out") / ex.name; }

bool distributable(const Experiment& ex) { return ex.kind == "codesign" || ex.kind == "sweep"; }

distributed::WorkFunction worker_function(const Experiment& ex, PluginHost& host) {
    if (ex.kind == "codesign") return codesign_worker(ex, host);
    if (ex.kind == "sweep")  // the work refers to the plan: keep it alive with the function
        return [plan = ex.sweep_plan, work = sweep_point_work(*ex.sweep_plan, host)](const std::string& payload) { return work(payload); };
    return [kind = ex.kind](const std::string&) -> std::string {
        throw InternalError(fmt::format("an MPI worker got work for kind {}, which runs on rank 0 only", kind));
    };
}

nlohmann::json run_experiment(const Experiment& ex, PluginHost& plugins, const RunSettings& settings) {
    const fs::path out = settings.out.empty() ? default_output_folder(ex) : settings.out;
    const bool quiet = settings.quiet;
    const unsigned threads = std::max(1u, settings.threads);
    if (settings.resume && ex.kind != "codesign" && ex.kind != "sweep")
        throw ConfigError(fmt::format("--resume carries on a co-design search or a sweep; experiment '{}' is of kind {}", ex.name, ex.kind));
    // Before any work: the folder is created, checked writable and locked for this run. An earlier
    // run's results.json goes before the first output is written (co-design and sweep: once their
    // database is open), so that results.json, written last, marks a complete folder.
    const OutputFolderLock folder(out);
    if (ex.kind != "codesign" && ex.kind != "sweep") remove_stale_results(out);
    const unsigned ranks = settings.pool != nullptr ? settings.pool->stats().ranks : 1;
    spdlog::info("experiment '{}' ({}), seed {}, {}, output in {}", ex.name, ex.kind, ex.seed,
                 ranks > 1 && distributable(ex) ? fmt::format("{} MPI ranks", ranks) : fmt::format("{} thread(s)", threads), out.string());
    if (ranks > 1 && !distributable(ex))
        spdlog::warn("kind {} does not spread over MPI ranks: it runs on rank 0 only (with {} thread(s)); the other {} rank(s) wait and exit", ex.kind,
                     threads, ranks - 1);

    nlohmann::json doc = common_results(ex, plugins);
    std::optional<ModelSummary> summary;
    if (ex.model) {
        summary = summarize(step_graph(*ex.model, ex.mode == RunMode::training, ex.optimizer));
        nlohmann::json m = to_json(*summary);
        m["name"] = ex.model->name;
        m["family"] = ex.model->family->name;
        m["params"] = to_json(Value{ex.model->params.values()});
        doc["model"] = m;
    }
    if (ex.kind == "simulate") {
        run_simulation(ex, out, doc, quiet);
    } else if (ex.kind == "train" || ex.kind == "train_and_simulate" || ex.kind == "dynaprop_sweep") {
        run_training_kind(ex, plugins, out, quiet, threads, doc);
    } else if (ex.kind == "sweep") {
        run_sweep(*ex.sweep_plan, plugins, out, {threads, settings.resume, quiet, settings.pool}, doc);
    } else if (ex.kind == "codesign") {
        run_codesign(ex, plugins, out, {threads, settings.resume, quiet, settings.pool}, doc);
    } else if (ex.kind == "sparsity_probe") {
        const auto strategy = plugins.create<PruningStrategy>(*ex.pruning.info, ex.pruning.params);
        const SparsityProbeResult result = run_sparsity_probe(ex, strategy);
        add_sparsity_probe_results(doc, ex, result);
        if (!quiet) {
            fmt::print("\n{} — {} with {} ({} mode), {}x{} Gaussian tensors\n", ex.name, ex.kind, ex.pruning.info->name,
                       ex.mode == RunMode::training ? "training" : "inference", ex.probe.rows, ex.probe.cols);
            fmt::print("  {:<22} {:>10} {:>8} {:>12} {:>12} {:>9}\n", "tensor role", "std", "pruned", "zeros", "elements", "sparsity");
            for (const auto& r : result.roles)
                fmt::print("  {:<22} {:>10.4g} {:>8} {:>12} {:>12} {:>8.2f}%\n", to_string(r.role), r.std_dev, r.pruned ? "yes" : "no", r.zeros,
                           r.elements, 100.0 * r.sparsity());
        }
    } else if (!quiet && summary) {
        fmt::print("\n");
        print_model_summary(ex.model->name, ex.model->family->name, *summary);
    }
    write_json_file(out / "results.json", doc);
    return doc;
}

}  // namespace transcode::engine
