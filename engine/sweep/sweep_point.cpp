#include "sweep/sweep_point.hpp"

#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "common/deadline.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

struct Figure {
    const char* column;
    const char* pointer;  ///< JSON pointer into the point's results.json
};

// The headline figures of each kind: a simulation's (simulate; train_and_simulate simulates the
// training step) and a training run's.
const std::vector<Figure>& simulation_figures() {
    static const std::vector<Figure> f{
        {"cycles", "/latency/cycles"},
        {"latency_s", "/latency/seconds"},
        {"energy_j", "/energy/total_j"},
        {"dynamic_energy_j", "/energy/dynamic_j"},
        {"leakage_energy_j", "/energy/leakage_j"},
        {"area_mm2", "/accelerator/area_mm2"},
        {"mac_utilisation_fraction", "/utilisation/mac_lane"},
        {"main_memory_read_bytes", "/memory/bytes_read"},
        {"main_memory_written_bytes", "/memory/bytes_written"},
        {"peak_activation_buffer_bytes", "/memory/peak_buffer_bytes/activation"},
        {"peak_weight_buffer_bytes", "/memory/peak_buffer_bytes/weight"},
    };
    return f;
}

const std::vector<Figure>& training_figures() {
    static const std::vector<Figure> f{
        {"validation_accuracy_fraction", "/accuracy/validation"},
        {"validation_loss_nats", "/accuracy/validation_loss"},
        {"train_accuracy_fraction", "/accuracy/train"},
        {"training_steps", "/accuracy/steps"},
    };
    return f;
}

// train_and_simulate: the training figures, the simulated training step's, and the inference pass's.
std::vector<Figure> figures_of(const std::string& of) {
    std::vector<Figure> out;
    if (of == "train" || of == "train_and_simulate") out = training_figures();
    if (of == "simulate" || of == "train_and_simulate") out.insert(out.end(), simulation_figures().begin(), simulation_figures().end());
    if (of == "train_and_simulate") {
        out.push_back({"inference_cycles", "/inference/latency/cycles"});
        out.push_back({"inference_latency_s", "/inference/latency/seconds"});
        out.push_back({"inference_energy_j", "/inference/energy/total_j"});
    }
    return out;
}

}  // namespace

const char* to_string(SweepPointStatus s) {
    switch (s) {
        case SweepPointStatus::ok: return "ok";
        case SweepPointStatus::infeasible: return "infeasible";
        case SweepPointStatus::failed: return "failed";
    }
    return "failed";
}

SweepPointStatus sweep_point_status(const std::string& text) {
    if (text == "ok") return SweepPointStatus::ok;
    if (text == "infeasible") return SweepPointStatus::infeasible;
    if (text == "failed") return SweepPointStatus::failed;
    throw ConfigError(fmt::format("'{}' is not a sweep point status (ok, infeasible, failed)", text));
}

nlohmann::json to_json(const SweepPointRecord& r) {
    return {{"index", r.index}, {"values", r.values}, {"status", to_string(r.status)}, {"reason", r.reason},
            {"figures", r.figures}, {"seconds", r.seconds}, {"folder", r.folder}};
}

SweepPointRecord sweep_point_record_from_json(const nlohmann::json& j) {
    SweepPointRecord r;
    try {
        r.index = j.at("index").get<std::size_t>();
        r.values = j.at("values").get<std::vector<std::string>>();
        r.status = sweep_point_status(j.at("status").get<std::string>());
        r.reason = j.at("reason").get<std::string>();
        r.figures = j.at("figures");
        if (!r.figures.is_object()) throw ConfigError("figures is not an object");
        r.seconds = j.at("seconds").get<double>();
        r.folder = j.at("folder").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(fmt::format("not a sweep point record: {}", e.what()));
    }
    return r;
}

std::vector<std::string> sweep_figure_columns(const std::string& of) {
    std::vector<std::string> out;
    for (const auto& f : figures_of(of)) out.emplace_back(f.column);
    return out;
}

nlohmann::json sweep_figures(const std::string& of, const nlohmann::json& results) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& f : figures_of(of)) {
        const nlohmann::json::json_pointer p(f.pointer);
        if (results.contains(p) && results.at(p).is_number()) out[f.column] = results.at(p);
    }
    return out;
}

fs::path sweep_point_folder(std::size_t index) { return fs::path("points") / fmt::format("{:04}", index); }

SweepPointRecord run_sweep_point(const SweepPlan& plan, std::size_t index, const fs::path& point_out, PluginHost& host) {
    SweepPointRecord r;
    r.index = index;
    r.values = plan.value_texts(index);
    r.folder = sweep_point_folder(index).generic_string();
    const auto start = std::chrono::steady_clock::now();
    try {
        config::Diagnostics diags;
        config::Node doc = plan.point_document(index, diags);
        diags.throw_if_any();
        const DeadlineScope deadline(plan.point_timeout_s);
        const nlohmann::json results = plan.kind.run(std::move(doc), plan.file, point_out, host);
        const std::string status = results.contains("status") && results["status"].is_string() ? results["status"].get<std::string>() : "ok";
        r.status = status == "ok" ? SweepPointStatus::ok : SweepPointStatus::infeasible;
        if (r.status != SweepPointStatus::ok)
            r.reason = results.contains("reason") && results["reason"].is_string() ? results["reason"].get<std::string>() : status;
        r.figures = sweep_figures(plan.of, results);
    } catch (const DeadlineExceeded&) {
        r.status = SweepPointStatus::failed;
        r.reason = fmt::format("timed out: the point ran past sweep.point_timeout_s ({} s)", plan.point_timeout_s);
    } catch (const InternalError&) {
        throw;
    } catch (const Error& e) {
        r.status = SweepPointStatus::failed;
        r.reason = e.what();
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace transcode::engine
