#include "experiment/training_run.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/atomic_file.hpp"
#include "common/csv_table.hpp"
#include "common/progress.hpp"
#include "report/results.hpp"
#include "training/baseline.hpp"
#include "report/simulation_report.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

// Training's progress through the one reporter (common/progress.hpp): a live line per step on a
// terminal, kept at the end of each epoch; one log line per epoch otherwise.
class EpochProgress {
public:
    EpochProgress(bool quiet, std::int64_t epochs, std::string label) : reporter_(quiet, std::move(label)), epochs_(epochs) {}
    void operator()(std::int64_t epoch, std::int64_t step, std::int64_t steps, double loss, double accuracy) {
        if (first_epoch_ < 0) first_epoch_ = epoch;  // a resumed run starts after its checkpoint's epochs
        const double done = static_cast<double>((epoch - first_epoch_) * steps + step);
        const double total = static_cast<double>((epochs_ - first_epoch_ + 1) * steps);
        reporter_.update(fmt::format("epoch {}/{}  step {}/{}  training loss {:.4f}  accuracy {:.1f}%", epoch, epochs_, step, steps, loss, 100.0 * accuracy),
                         done, total - done, step == steps);
    }

private:
    ProgressReporter reporter_;
    std::int64_t epochs_;
    std::int64_t first_epoch_ = -1;
};

nlohmann::json count_json(const RoleCount& c) { return {{"zeros", c.zeros}, {"elements", c.elements}, {"sparsity", c.sparsity()}}; }

// Per role (activation, activation_gradient, weight_gradient) and under `points` per pruning point.
nlohmann::json counts_json(const std::map<TensorRole, RoleCount>& roles, const std::map<PruningPoint, RoleCount>& points) {
    nlohmann::json j = nlohmann::json::object();
    for (TensorRole role : {TensorRole::activation, TensorRole::activation_gradient, TensorRole::weight_gradient}) {
        const auto it = roles.find(role);
        j[to_string(role)] = count_json(it != roles.end() ? it->second : RoleCount{});
    }
    nlohmann::json per_point = nlohmann::json::object();
    for (const auto& [point, c] : points) per_point[to_string(point)] = count_json(c);
    j["points"] = per_point;
    return j;
}

// Training sparsity (the last epoch's steps) per role and point, and under `inference` the
// sparsity of the last epoch's validation batches with the inference thresholds.
nlohmann::json sparsity_json(const TrainingReport& r) {
    nlohmann::json j = {{"source", "measured"}};
    j.update(counts_json(r.sparsity, r.point_sparsity));
    j["inference"] = counts_json(r.inference_sparsity, r.inference_point_sparsity);
    j["inference"]["source"] = "measured on the validation batches with the inference thresholds";
    j["inference"]["examples"] = r.validation_examples;
    return j;
}

nlohmann::json calibrated_points_json(const CalibrationReport& c) {
    nlohmann::json points = nlohmann::json::object();
    for (const auto& [point, p] : c.points)
        points[to_string(point)] = {{"target", p.target}, {"threshold", p.threshold}, {"sparsity", p.sparsity}, {"values", p.values}};
    return points;
}

// The first calibration of the run (thresholds, reached fractions), the settings, and every
// calibration the run made (`history`: the optimizer steps before it, and its thresholds).
nlohmann::json calibration_json(const TrainingReport& r, const CalibrationSettings& s) {
    nlohmann::json history = nlohmann::json::array();
    for (const auto& rec : r.calibrations)
        history.push_back({{"step", rec.step}, {"epoch", rec.epoch}, {"rounds", rec.report.rounds}, {"points", calibrated_points_json(rec.report)}});
    const CalibrationReport& first = !r.calibrations.empty() ? r.calibrations.front().report : *r.calibration;
    return {{"batches", first.batches},       {"batches_asked", s.batches}, {"rounds", first.rounds}, {"every_steps", s.every_steps},
            {"quantile", "exact"},            {"points", calibrated_points_json(first)}, {"calibrations", r.calibrations.size()},
            {"history", history},             {"final", calibrated_points_json(*r.calibration)}};
}

void print_calibration(const TrainingReport& r, const CalibrationSettings& s) {
    if (r.calibrations.empty()) return;
    const CalibrationReport& c = r.calibrations.front().report;
    fmt::print("  calibrated thresholds ({} batch(es), {} round(s), exact quantiles){}:\n", c.batches, c.rounds,
               s.every_steps > 0 ? fmt::format("; recalibrated every {} steps, {} calibrations in all", s.every_steps, r.calibrations.size()) : "");
    fmt::print("  {:<24} {:>8} {:>14} {:>10} {:>12} {:>16}\n", "point", "target", "threshold", "reached", "values", "last threshold");
    for (const auto& [point, p] : c.points)
        fmt::print("  {:<24} {:>7.2f}% {:>14.6g} {:>9.2f}% {:>12} {:>16.6g}\n", to_string(point), 100 * p.target, p.threshold, 100 * p.sparsity, p.values,
                   r.calibration->points.at(point).threshold);
}

void print_points(const char* label, const std::map<PruningPoint, RoleCount>& points) {
    std::string line;
    for (const auto& [point, c] : points) line += fmt::format("{}{} {:.2f}%", line.empty() ? "" : ", ", to_string(point), 100 * c.sparsity());
    fmt::print("  {}: {}\n", label, line);
}

// The activation and gradient points a strategy may prune, in report order.
const std::vector<PruningPoint>& prunable_points() { return calibratable_points(); }

bool is_activation_point(PruningPoint p) {
    return p == PruningPoint::dense || p == PruningPoint::attention_scores || p == PruningPoint::attention_probabilities;
}

double point_sparsity(const std::map<PruningPoint, RoleCount>& counts, PruningPoint p) {
    const auto it = counts.find(p);
    return it != counts.end() ? it->second.sparsity() : 0.0;
}

// Per point of one epoch: the training and validation sparsity, and for a calibrated point its
// target and the threshold in effect at the epoch's end.
nlohmann::json epoch_sparsity_json(const EpochReport& e, const std::map<PruningPoint, double>& targets) {
    nlohmann::json points = nlohmann::json::object();
    for (PruningPoint p : prunable_points()) {
        nlohmann::json j = {{"training", point_sparsity(e.point_sparsity, p)}};
        if (is_activation_point(p)) j["validation"] = point_sparsity(e.validation_point_sparsity, p);
        if (const auto t = targets.find(p); t != targets.end()) j["target"] = t->second;
        if (const auto t = e.thresholds.find(p); t != e.thresholds.end()) j["threshold"] = t->second;
        points[to_string(p)] = j;
    }
    return points;
}

nlohmann::json accuracy_json(const TrainingReport& r, const std::map<PruningPoint, double>& targets) {
    nlohmann::json epochs = nlohmann::json::array();
    for (const auto& e : r.epochs) {
        nlohmann::json row = {{"epoch", e.epoch},
                              {"steps", e.steps},
                              {"train_examples", e.train_examples},
                              {"train_loss", e.train_loss},
                              {"train_accuracy", e.train_accuracy},
                              {"learning_rate", e.learning_rate},
                              {"grad_norm", e.grad_norm},
                              {"clipped_steps", e.clipped_steps},
                              {"validation_examples", e.validation_examples},
                              {"validation_loss", e.validation_loss},
                              {"validation_accuracy", e.validation_accuracy},
                              {"seconds", e.seconds}};
        if (r.binary) {
            row["validation_precision"] = e.validation_precision;
            row["validation_recall"] = e.validation_recall;
            row["validation_f1"] = e.validation_f1;
        }
        row["sparsity"] = epoch_sparsity_json(e, targets);
        epochs.push_back(row);
    }
    const EpochReport& v = r.validation;
    nlohmann::json j = {{"source", "trained"},
                        {"validation", v.validation_accuracy},
                        {"validation_loss", v.validation_loss},
                        {"validation_examples", r.validation_examples},
                        {"steps", r.steps},
                        {"epochs", epochs},
                        {"evaluated_only", r.evaluated_only},
                        {"resumed_from_epoch", r.resumed_from_epoch}};
    if (!r.epochs.empty()) j["train"] = r.epochs.back().train_accuracy;
    if (r.binary) {
        j["validation_precision"] = v.validation_precision;
        j["validation_recall"] = v.validation_recall;
        j["validation_f1"] = v.validation_f1;
    }
    return j;
}

// curves.csv: one row per epoch (the curves of accuracy.epochs), units in the header; then the
// sparsity per point in training and validation, and per calibrated point its target and the
// threshold in effect at the epoch's end.
void write_curves(const fs::path& file, const TrainingReport& r, const std::map<PruningPoint, double>& targets) {
    std::vector<std::string> columns{"epoch", "steps", "train_examples", "train_loss_nats", "train_accuracy_fraction", "learning_rate",
                                     "grad_norm_before_clip", "clipped_steps", "validation_examples", "validation_loss_nats",
                                     "validation_accuracy_fraction", "validation_precision_fraction", "validation_recall_fraction",
                                     "validation_f1_fraction", "seconds"};
    for (PruningPoint p : prunable_points()) columns.push_back(fmt::format("train_sparsity_{}_fraction", to_string(p)));
    for (PruningPoint p : prunable_points())
        if (is_activation_point(p)) columns.push_back(fmt::format("validation_sparsity_{}_fraction", to_string(p)));
    for (const auto& [p, target] : targets) {
        columns.push_back(fmt::format("target_sparsity_{}_fraction", to_string(p)));
        columns.push_back(fmt::format("threshold_{}", to_string(p)));
    }
    CsvTable table(std::move(columns));
    for (const auto& e : r.epochs) {
        std::vector<std::string> row{fmt::format("{}", e.epoch), fmt::format("{}", e.steps), fmt::format("{}", e.train_examples),
                                     fmt::format("{:.6f}", e.train_loss), fmt::format("{:.6f}", e.train_accuracy), fmt::format("{:.6e}", e.learning_rate),
                                     fmt::format("{:.6e}", e.grad_norm), fmt::format("{}", e.clipped_steps), fmt::format("{}", e.validation_examples),
                                     fmt::format("{:.6f}", e.validation_loss), fmt::format("{:.6f}", e.validation_accuracy)};
        for (double m : {e.validation_precision, e.validation_recall, e.validation_f1}) row.push_back(r.binary ? fmt::format("{:.6f}", m) : std::string());
        row.push_back(fmt::format("{:.3f}", e.seconds));
        for (PruningPoint p : prunable_points()) row.push_back(fmt::format("{:.6f}", point_sparsity(e.point_sparsity, p)));
        for (PruningPoint p : prunable_points())
            if (is_activation_point(p)) row.push_back(fmt::format("{:.6f}", point_sparsity(e.validation_point_sparsity, p)));
        for (const auto& [p, target] : targets) {
            const auto t = e.thresholds.find(p);
            row.push_back(fmt::format("{:.6f}", target));
            row.push_back(t != e.thresholds.end() ? fmt::format("{:.9g}", t->second) : "");
        }
        table.add_row(row);
    }
    table.write(file);
}

// Per epoch, each calibrated point's sparsity in training and validation against its target: the
// drift the recalibration is there to hold back.
void print_drift(const TrainingReport& r, const std::map<PruningPoint, double>& targets) {
    if (targets.empty() || r.epochs.empty()) return;
    fmt::print("  per-point sparsity by epoch, training / validation (inference thresholds), against the calibration target:\n");
    std::string header = fmt::format("  {:>6}", "epoch");
    std::string target_line = fmt::format("  {:>6}", "target");
    for (const auto& [p, target] : targets) {
        header += fmt::format(" {:>24}", to_string(p));
        target_line += fmt::format(" {:>23.2f}%", 100 * target);
    }
    fmt::print("{}\n{}\n", header, target_line);
    for (const auto& e : r.epochs) {
        std::string line = fmt::format("  {:>6}", e.epoch);
        for (const auto& [p, target] : targets) {
            const std::string cell = is_activation_point(p) ? fmt::format("{:.2f}% / {:.2f}%", 100 * point_sparsity(e.point_sparsity, p),
                                                                          100 * point_sparsity(e.validation_point_sparsity, p))
                                                            : fmt::format("{:.2f}%", 100 * point_sparsity(e.point_sparsity, p));
            line += fmt::format(" {:>24}", cell);
        }
        fmt::print("{}\n", line);
    }
}

double role(const TrainingReport& r, TensorRole t) {
    const auto it = r.sparsity.find(t);
    return it != r.sparsity.end() ? it->second.sparsity() : 0.0;
}

void print_epochs(const TrainingReport& r) {
    fmt::print("  {:>5} {:>11} {:>10} {:>10} {:>10} {:>11} {:>10} {:>9} {:>9}\n", "epoch", "train loss", "train acc", "lr", "grad norm", "valid loss", "valid acc",
               "valid F1", "seconds");
    for (const auto& e : r.epochs) {
        const std::string f1 = r.binary ? fmt::format("{:>8.2f}%", 100 * e.validation_f1) : fmt::format("{:>9}", "-");
        fmt::print("  {:>5} {:>11.4f} {:>9.2f}% {:>10.3e} {:>10.4f} {:>11.4f} {:>9.2f}% {} {:>9.1f}\n", e.epoch, e.train_loss, 100 * e.train_accuracy,
                   e.learning_rate, e.grad_norm, e.validation_loss, 100 * e.validation_accuracy, f1, e.seconds);
    }
    const EpochReport& v = r.validation;
    if (r.evaluated_only)
        fmt::print("  checkpoint of epoch {} evaluated: validation loss {:.4f}, accuracy {:.2f}%{} on {} examples\n", v.epoch, v.validation_loss,
                   100 * v.validation_accuracy, r.binary ? fmt::format(", F1 {:.2f}%", 100 * v.validation_f1) : "", r.validation_examples);
    else
        fmt::print("  validation on {} examples{}\n", r.validation_examples,
                   r.binary ? fmt::format(": precision {:.2f}%, recall {:.2f}%, F1 {:.2f}% (positive class 1)", 100 * v.validation_precision,
                                          100 * v.validation_recall, 100 * v.validation_f1)
                            : "");
    if (r.evaluated_only) return;
    fmt::print("  measured sparsity (last epoch): activations {:.2f}%, activation gradients {:.2f}%, weight gradients {:.2f}%\n",
               100 * role(r, TensorRole::activation), 100 * role(r, TensorRole::activation_gradient), 100 * role(r, TensorRole::weight_gradient));
    print_points("per point", r.point_sparsity);
    print_points("inference (validation, inference thresholds)", r.inference_point_sparsity);
}

std::string value_text(const Value& v) { return to_json(v).dump(); }

// sparsity_profile.yaml: pruning setting -> measured sparsity per role (what the simulator takes).
void write_profile(const fs::path& file, const Experiment& ex, const std::vector<std::pair<ValueMap, TrainingReport>>& points) {
    std::ostringstream out;
    out << fmt::format("# Sparsity profile measured by transcode {} (experiment '{}'): the fraction of zeros per tensor role\n", engine_version(), ex.name);
    out << "# that the pruning strategy left in the last training epoch, at each pruning setting.\n";
    out << fmt::format("model: {}\npruning: {}\npoints:\n", nlohmann::json(ex.model->name).dump(), ex.pruning.info->name);
    for (const auto& [params, r] : points) {
        std::string p;
        for (const auto& [k, v] : params) p += fmt::format("{}{}: {}", p.empty() ? "" : ", ", k, value_text(v));
        out << fmt::format("  - params: {{{}}}\n    sparsity: {{activation: {}, activation_gradient: {}, weight_gradient: {}}}\n    validation_accuracy: {}\n", p,
                           role(r, TensorRole::activation), role(r, TensorRole::activation_gradient), role(r, TensorRole::weight_gradient),
                           r.validation.validation_accuracy);
    }
    write_file_atomically(file, out.str());
}

}  // namespace

Dataset load_dataset(const DataSettings& data, std::int64_t S, std::int64_t classes) {
    switch (data.source) {
        case DataSettings::Source::tsv:
            return read_tsv(data.train_file, data.validation_file, S, classes);
        case DataSettings::Source::glue:
            return read_glue(data.train_file, data.validation_file, WordPieceTokenizer(Vocabulary::load_shared(data.vocabulary_file)), data.glue, S, classes);
        case DataSettings::Source::synthetic:
            break;
    }
    return make_synthetic_sentiment(data.synthetic, S);
}

Dataset load_data(const Experiment& ex, std::int64_t S) {
    std::int64_t classes = 2;
    for (const auto& op : ex.model->forward.ops)
        if (op.kind == OpKind::cross_entropy) classes = ex.model->forward.tensors[static_cast<std::size_t>(op.inputs[0])].shape.back();
    return load_dataset(ex.data, S, classes);
}

namespace {
void run_training_kind_impl(const Experiment& ex, PluginHost& host, const fs::path& out, bool quiet, const TrainingSettings& settings, nlohmann::json& doc);
}

void run_training_kind(const Experiment& ex, PluginHost& host, const fs::path& out, bool quiet, unsigned threads, nlohmann::json& doc) {
    TrainingSettings settings = ex.training;
    settings.threads = threads;
    try {
        run_training_kind_impl(ex, host, out, quiet, settings, doc);
    } catch (const ConfigError& e) {
        // Data that does not fit the model is found when training starts: name the experiment.
        const std::string m = e.what();
        if (m.find(": error: ") != std::string::npos) throw;
        throw ConfigError(fmt::format("{}: error: {}", ex.file.string(), m));
    }
}

namespace {

using RunTraining = std::function<TrainingReport(const PluginInfo&, const Params&, const CalibrationSettings&, const TrainingSettings&, EpochProgress&)>;
using SimulateStep = std::function<SimulationResult(const std::vector<double>&, bool)>;

// One run of the matched sweep and what it measured.
struct MatchedRun {
    std::string label;     // baseline, or the plugin's short name and the target (dynaprop-0.5)
    const PluginInfo* info = nullptr;
    ValueMap params;
    std::optional<double> target;
    bool calibrated = false;
    TrainingReport report;
    double train_matched = 0, inference_matched = 0;  // pooled over the matched points
    SimulationResult training, inference;
    double seconds = 0;
};

// Zeros over elements, pooled over `points`.
double pooled(const std::map<PruningPoint, RoleCount>& counts, const std::vector<PruningPoint>& points) {
    RoleCount sum;
    for (PruningPoint p : points)
        if (const auto it = counts.find(p); it != counts.end()) {
            sum.zeros += it->second.zeros;
            sum.elements += it->second.elements;
        }
    return sum.sparsity();
}

std::string short_name(const std::string& qualified) {
    const auto dot = qualified.find('.');
    return dot == std::string::npos ? qualified : qualified.substr(dot + 1);
}

// The comparison the matched sweep exists for: for each compared run, the calibrated runs whose
// dev accuracy is at least its accuracy minus `tolerance` (0.5 points), and the sparsest of them
// (inference sparsity on the dev set, pooled over the matched points).
nlohmann::json compare_matched(const std::vector<MatchedRun>& runs, double tolerance, bool print) {
    nlohmann::json rows = nlohmann::json::array();
    if (print) fmt::print("\n  at equal dev accuracy (a calibrated run at most {:.1f} points below): dev-set activation sparsity at the matched points\n", 100 * tolerance);
    for (const MatchedRun& k : runs) {
        if (!k.target || k.calibrated) continue;
        const MatchedRun* best = nullptr;
        const double acc = k.report.validation.validation_accuracy;
        for (const MatchedRun& d : runs)
            if (d.calibrated && d.report.validation.validation_accuracy >= acc - tolerance - 1e-12 && (best == nullptr || d.inference_matched > best->inference_matched))
                best = &d;
        nlohmann::json row = {{"compared", k.label}, {"compared_accuracy", acc}, {"compared_sparsity", k.inference_matched}};
        if (best != nullptr) {
            const double ratio = k.inference_matched > 0 ? best->inference_matched / k.inference_matched : 0.0;
            row["calibrated"] = best->label;
            row["calibrated_accuracy"] = best->report.validation.validation_accuracy;
            row["calibrated_sparsity"] = best->inference_matched;
            row["sparsity_ratio"] = ratio;
            row["at_least_as_sparse"] = best->inference_matched >= k.inference_matched;
            if (print)
                fmt::print("  {:<16} {:>6.2f}% accuracy, {:>6.2f}% sparse  |  {:<16} {:>6.2f}% accuracy, {:>6.2f}% sparse  ({:.2f}x)\n", k.label, 100 * acc,
                           100 * k.inference_matched, best->label, 100 * best->report.validation.validation_accuracy, 100 * best->inference_matched, ratio);
        } else {
            row["calibrated"] = nullptr;
            if (print)
                fmt::print("  {:<16} {:>6.2f}% accuracy, {:>6.2f}% sparse  |  no calibrated run within {:.1f} points\n", k.label, 100 * acc,
                           100 * k.inference_matched, 100 * tolerance);
        }
        rows.push_back(row);
    }
    return rows;
}

// kind dynaprop_sweep with sweep.matched: the baseline, then at each target the calibrated strategy
// and the compared one; sweep.csv, runs/<label>/curves.csv, the table and the comparison.
void run_matched_sweep(const Experiment& ex, const Dataset& data, const TrainingSettings& settings, bool quiet, const fs::path& out, nlohmann::json& doc,
                       const RunTraining& run, const SimulateStep& simulate_step) {
    const MatchedSweep& m = *ex.matched;
    std::vector<MatchedRun> runs;
    {
        MatchedRun b;
        b.label = "baseline";
        b.info = m.baseline.info;
        b.params = m.baseline.params.values();
        runs.push_back(std::move(b));
    }
    for (double t : m.targets) {
        MatchedRun d;
        d.info = ex.pruning.info;
        d.params = ex.pruning.params.values();
        d.target = t;
        d.calibrated = true;
        d.label = fmt::format("{}-{}", short_name(d.info->name), t);
        MatchedRun k;
        k.info = m.compare.info;
        k.params = matched_compare_params(m, t);
        k.target = t;
        k.label = fmt::format("{}-{}", short_name(k.info->name), t);
        runs.push_back(std::move(d));
        runs.push_back(std::move(k));
    }
    std::string point_names;
    for (PruningPoint p : m.points) point_names += fmt::format("{}{}", point_names.empty() ? "" : ", ", to_string(p));
    if (!quiet)
        fmt::print("\n{} — {} on {}: {} calibrated against {} at matched sparsity ({}), {} runs\n", ex.name, ex.model->name, data.description,
                   ex.pruning.info->name, m.compare.info->name, point_names, runs.size());
    for (std::size_t i = 0; i < runs.size(); ++i) {
        MatchedRun& r = runs[i];
        EpochProgress progress(quiet, ex.training.epochs, fmt::format("[{}/{} {}] ", i + 1, runs.size(), r.label));
        const auto t0 = std::chrono::steady_clock::now();
        const CalibrationSettings calibration = r.calibrated ? matched_calibration(ex, *r.target) : CalibrationSettings{};
        r.report = run(*r.info, Params(r.params), calibration, settings, progress);
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        r.train_matched = pooled(r.report.point_sparsity, m.points);
        r.inference_matched = pooled(r.report.inference_point_sparsity, m.points);
        r.training = simulate_step(r.report.tensor_sparsity, true);
        r.inference = simulate_step(r.report.inference_tensor_sparsity, false);
        fs::create_directories(out / "runs" / r.label);
        write_curves(out / "runs" / r.label / "curves.csv", r.report, calibration.targets);
        spdlog::info("{}: dev accuracy {:.2f}%, sparsity at the matched points {:.2f}% in training, {:.2f}% on dev ({:.0f} s)", r.label,
                     100 * r.report.validation.validation_accuracy, 100 * r.train_matched, 100 * r.inference_matched, r.seconds);
    }

    // sweep.csv and results.json.
    std::vector<std::string> columns{"run", "strategy", "target_sparsity_fraction", "train_sparsity_matched_fraction", "inference_sparsity_matched_fraction"};
    for (PruningPoint p : prunable_points()) columns.push_back(fmt::format("train_sparsity_{}_fraction", to_string(p)));
    for (PruningPoint p : prunable_points())
        if (is_activation_point(p)) columns.push_back(fmt::format("inference_sparsity_{}_fraction", to_string(p)));
    for (const char* c : {"validation_accuracy_fraction", "validation_f1_fraction", "validation_loss_nats", "training_latency_s", "training_energy_j",
                          "inference_latency_s", "inference_energy_j", "calibrations", "seconds"})
        columns.emplace_back(c);
    CsvTable csv(std::move(columns));
    nlohmann::json rows = nlohmann::json::array();
    for (const MatchedRun& r : runs) {
        const EpochReport& v = r.report.validation;
        std::vector<std::string> line{r.label, r.info->name, r.target ? fmt::format("{}", *r.target) : "", fmt::format("{:.6f}", r.train_matched),
                                      fmt::format("{:.6f}", r.inference_matched)};
        for (PruningPoint p : prunable_points()) line.push_back(fmt::format("{:.6f}", point_sparsity(r.report.point_sparsity, p)));
        for (PruningPoint p : prunable_points())
            if (is_activation_point(p)) line.push_back(fmt::format("{:.6f}", point_sparsity(r.report.inference_point_sparsity, p)));
        for (const std::string& f : {fmt::format("{:.6f}", v.validation_accuracy), fmt::format("{:.6f}", v.validation_f1), fmt::format("{:.6f}", v.validation_loss),
                                     fmt::format("{:.6e}", r.training.seconds), fmt::format("{:.6e}", r.training.total_j()),
                                     fmt::format("{:.6e}", r.inference.seconds), fmt::format("{:.6e}", r.inference.total_j()),
                                     fmt::format("{}", r.report.calibrations.size()), fmt::format("{:.1f}", r.seconds)})
            line.push_back(f);
        csv.add_row(line);
        nlohmann::json row = {{"run", r.label},
                              {"strategy", r.info->name},
                              {"params", to_json(Value{r.params})},
                              {"target", r.target ? nlohmann::json(*r.target) : nlohmann::json(nullptr)},
                              {"sparsity", sparsity_json(r.report)},
                              {"matched_sparsity", {{"training", r.train_matched}, {"inference", r.inference_matched}}},
                              {"accuracy", accuracy_json(r.report, r.calibrated ? matched_calibration(ex, *r.target).targets : std::map<PruningPoint, double>{})},
                              {"validation_accuracy", v.validation_accuracy},
                              {"validation_f1", v.validation_f1},
                              {"validation_loss", v.validation_loss},
                              {"training_latency_s", r.training.seconds},
                              {"training_latency_cycles", r.training.cycles},
                              {"training_energy_j", r.training.total_j()},
                              {"inference_latency_s", r.inference.seconds},
                              {"inference_energy_j", r.inference.total_j()},
                              {"seconds", r.seconds}};
        if (r.report.calibration) row["calibration"] = calibration_json(r.report, matched_calibration(ex, *r.target));
        rows.push_back(row);
    }
    csv.write(out / "sweep.csv");
    doc["sweep"] = rows;

    if (!quiet) {
        fmt::print("\n  sparsity: fraction of zeros pooled over the matched points ({}), last epoch's training steps and the dev set\n", point_names);
        fmt::print("  {:<16} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>11} {:>10}\n", "run", "target", "train sp", "dev sp", "dev dense",
                   "dev score", "dev prob", "dev acc", "dev F1", "dev loss", "train step", "energy");
        for (const MatchedRun& r : runs) {
            const EpochReport& v = r.report.validation;
            fmt::print("  {:<16} {:>7} {:>8.2f}% {:>8.2f}% {:>8.2f}% {:>8.2f}% {:>8.2f}% {:>7.2f}% {:>7.2f}% {:>8.4f} {:>8.4g} ms {:>7.4g} mJ\n", r.label,
                       r.target ? fmt::format("{:.1f}%", 100 * *r.target) : "-", 100 * r.train_matched, 100 * r.inference_matched,
                       100 * point_sparsity(r.report.inference_point_sparsity, PruningPoint::dense),
                       100 * point_sparsity(r.report.inference_point_sparsity, PruningPoint::attention_scores),
                       100 * point_sparsity(r.report.inference_point_sparsity, PruningPoint::attention_probabilities), 100 * v.validation_accuracy,
                       100 * v.validation_f1, v.validation_loss, r.training.seconds * 1e3, r.training.total_j() * 1e3);
        }
    }
    constexpr double tolerance = 0.005;  // half a point of dev accuracy
    doc["comparison"] = {{"tolerance", tolerance},
                         {"sparsity", "dev set, inference thresholds, pooled over the matched points"},
                         {"points", point_names},
                         {"rows", compare_matched(runs, tolerance, !quiet)}};
}

}  // namespace

namespace {
void run_training_kind_impl(const Experiment& ex, PluginHost& host, const fs::path& out, bool quiet, const TrainingSettings& settings, nlohmann::json& doc) {
    const ModelGraph step = make_training_graph(ex.model->forward, ex.optimizer);
    std::int64_t S = 0;
    for (const auto& t : step.tensors)
        if (t.name == "input_ids" && t.is_input && t.shape.size() == 2) S = t.shape[1];
    const Dataset data = load_data(ex, S);
    spdlog::info("data: {}", data.description);
    doc["data"] = {{"description", data.description}, {"train_examples", data.train.size()}, {"validation_examples", data.validation.size()},
                   {"vocab_size", data.vocab_size}, {"classes", data.num_classes}, {"truncated_train", data.truncated_train},
                   {"truncated_validation", data.truncated_validation}};
    doc["pruning"] = {{"plugin", ex.pruning.info->name}, {"params", to_json(Value{ex.pruning.params.values()})}};
    // What the model must beat, on the same token ids.
    BagOfWordsSettings bow;
    bow.seed = ex.seed;
    const BaselineReport baselines = run_baselines(data, bow);
    doc["baselines"] = {{"majority_class", {{"validation_accuracy", baselines.majority_class}}},
                        {"bag_of_words",
                         {{"validation_accuracy", baselines.bag_of_words},
                          {"train_accuracy", baselines.bag_of_words_train},
                          {"features", baselines.features},
                          {"epochs", bow.epochs}}}};
    spdlog::info("baselines on the same tokens (validation): majority class {:.2f}%, bag-of-words logistic regression {:.2f}% ({:.2f} s)",
                 100 * baselines.majority_class, 100 * baselines.bag_of_words, baselines.seconds);
    // Calibration (pruning.calibration): each run calibrates its own thresholds (and recalibrates
    // every `every_steps` steps).
    auto run = [&](const PluginInfo& info, const Params& params, const CalibrationSettings& calibration, const TrainingSettings& s,
                   EpochProgress& progress) {
        if (calibration.targets.empty()) {
            const auto strategy = host.create<PruningStrategy>(info, params);
            return train(step, data, *strategy, s, std::ref(progress));
        }
        const CalibratedPruning calibrated{calibration, [&](const CalibrationReport& c) {
                                               return host.create<PruningStrategy>(info, Params(apply_calibration(params.values(), c)));
                                           }};
        return train(step, data, calibrated, s, std::ref(progress));
    };
    // The pruning section of results.json for a run: params trained with (the first calibration's
    // thresholds applied) and the calibration.
    auto pruning_json = [&](const PluginInfo& info, const Params& params, const CalibrationSettings& calibration, const TrainingReport& r) {
        nlohmann::json j = {{"plugin", info.name}, {"params", to_json(Value{params.values()})}};
        if (r.calibration) {
            const CalibrationReport& first = !r.calibrations.empty() ? r.calibrations.front().report : *r.calibration;
            j["params"] = to_json(Value{apply_calibration(params.values(), first)});
            j["calibration"] = calibration_json(r, calibration);
        }
        return j;
    };

    auto simulate_step = [&](const std::vector<double>& tensor_sparsity, bool training) {
        SimulationOptions so;
        so.fidelity = ex.simulation.fidelity;
        so.training = training;
        so.trace = false;
        const ModelGraph& g = training ? step : ex.model->forward;
        so.tensor_sparsity.assign(tensor_sparsity.begin(), tensor_sparsity.begin() + static_cast<std::ptrdiff_t>(g.tensors.size()));
        return simulate(g, *ex.accelerator, so);
    };

    if (ex.kind == "dynaprop_sweep" && ex.matched) {
        run_matched_sweep(ex, data, settings, quiet, out, doc, run, simulate_step);
        return;
    }
    if (ex.kind == "dynaprop_sweep") {
        std::vector<std::string> keys;
        for (const auto& [k, v] : ex.sweep.front().changed) keys.push_back(k);
        std::vector<std::string> columns = keys;
        for (const char* c : {"activation_sparsity", "activation_gradient_sparsity", "weight_gradient_sparsity", "validation_accuracy", "training_latency_s",
                              "training_energy_j"})
            columns.emplace_back(c);
        CsvTable csv(std::move(columns));
        if (!quiet) {
            fmt::print("\n{} — {} on {} ({} settings); training step simulated on {}\n", ex.name, ex.model->name, data.description, ex.sweep.size(),
                       ex.accelerator->name);
            std::string h;
            for (const auto& k : keys) h += fmt::format("{:>12} ", k);
            fmt::print("  {}{:>9} {:>9} {:>9} {:>9} {:>12} {:>12}\n", h, "act sp", "agrad sp", "wgrad sp", "val acc", "latency", "energy");
        }
        nlohmann::json rows = nlohmann::json::array();
        std::vector<std::pair<ValueMap, TrainingReport>> profile;
        for (std::size_t i = 0; i < ex.sweep.size(); ++i) {
            const SweepPoint& p = ex.sweep[i];
            EpochProgress progress(quiet, ex.training.epochs, fmt::format("[{}/{}] ", i + 1, ex.sweep.size()));
            const TrainingReport r = run(*ex.pruning.info, p.params, ex.calibration, settings, progress);
            const SimulationResult sim = simulate_step(r.tensor_sparsity, true);
            std::vector<std::string> line;
            std::string values;
            nlohmann::json row = nlohmann::json::object();
            for (const auto& k : keys) {
                line.push_back(value_text(p.changed.at(k)));
                values += fmt::format("{:>12} ", value_text(p.changed.at(k)));
                row[k] = to_json(p.changed.at(k));
            }
            const double a = role(r, TensorRole::activation), ag = role(r, TensorRole::activation_gradient), wg = role(r, TensorRole::weight_gradient);
            const double acc = r.epochs.back().validation_accuracy;
            for (const std::string& f : {fmt::format("{:.6f}", a), fmt::format("{:.6f}", ag), fmt::format("{:.6f}", wg), fmt::format("{:.6f}", acc),
                                         fmt::format("{:.6e}", sim.seconds), fmt::format("{:.6e}", sim.total_j())})
                line.push_back(f);
            csv.add_row(line);
            if (!quiet)
                fmt::print("  {}{:>8.2f}% {:>8.2f}% {:>8.2f}% {:>8.2f}% {:>9.4g} ms {:>9.4g} mJ\n", values, 100 * a, 100 * ag, 100 * wg, 100 * acc, sim.seconds * 1e3,
                           sim.total_j() * 1e3);
            row["sparsity"] = sparsity_json(r);
            if (r.calibration) row["calibration"] = calibration_json(r, ex.calibration);
            row["validation_accuracy"] = acc;
            row["training_latency_s"] = sim.seconds;
            row["training_latency_cycles"] = sim.cycles;
            row["training_energy_j"] = sim.total_j();
            rows.push_back(row);
            profile.emplace_back(p.changed, r);
        }
        csv.write(out / "sweep.csv");
        doc["sweep"] = rows;
        write_profile(out / "sparsity_profile.yaml", ex, profile);
        return;
    }

    EpochProgress progress(quiet, ex.training.epochs, "");
    TrainingSettings run_settings = settings;
    if (ex.checkpoint.save) run_settings.checkpoint_file = out / "checkpoint.bin";
    run_settings.resume_from = ex.checkpoint.resume_from;
    const TrainingReport r = run(*ex.pruning.info, ex.pruning.params, ex.calibration, run_settings, progress);
    if (r.evaluated_only && ex.kind == "train_and_simulate")
        throw ConfigError(fmt::format("{}: error: training.resume_from: the checkpoint has done all {} epochs, so nothing is trained and no sparsity is "
                                      "measured to simulate: raise training.epochs, or use kind train to evaluate the checkpoint (conflict)",
                                      ex.file.string(), r.validation.epoch));
    doc["pruning"] = pruning_json(*ex.pruning.info, ex.pruning.params, ex.calibration, r);
    doc["accuracy"] = accuracy_json(r, ex.calibration.targets);
    write_curves(out / "curves.csv", r, ex.calibration.targets);
    doc["sparsity"] = sparsity_json(r);
    if (!r.evaluated_only) write_profile(out / "sparsity_profile.yaml", ex, {{ex.pruning.params.values(), r}});
    if (!quiet) {
        fmt::print("\n{} — {} trained on {} with {}\n", ex.name, ex.model->name, data.description, ex.pruning.info->name);
        print_calibration(r, ex.calibration);
        print_epochs(r);
        print_drift(r, ex.calibration.targets);
        fmt::print("  baselines on the same tokens: majority class {:.2f}%, bag-of-words logistic regression {:.2f}%\n", 100 * baselines.majority_class,
                   100 * baselines.bag_of_words);
    }
    if (ex.kind == "train_and_simulate") {
        const SimulationResult training = simulate_step(r.tensor_sparsity, true);
        // Inference runs with the inference thresholds: the sparsity measured on the validation batches.
        const SimulationResult inference = simulate_step(r.inference_tensor_sparsity, false);
        add_simulation_results(doc, step, *ex.accelerator, training, SparsityByRole{role(r, TensorRole::activation), role(r, TensorRole::activation_gradient),
                                                                                    role(r, TensorRole::weight_gradient), 0.0});
        doc["sparsity"] = sparsity_json(r);  // measured, per tensor underneath
        doc["inference"] = {{"sparsity_source", "measured on the validation batches with the inference thresholds (sparsity.inference)"},
                            {"latency", {{"cycles", inference.cycles}, {"seconds", inference.seconds}}},
                            {"energy", {{"dynamic_j", inference.dynamic_j}, {"leakage_j", inference.leakage_j}, {"total_j", inference.total_j()}}}};
        write_ops_csv(out / "ops.csv", step, *ex.accelerator, training);
        if (!quiet) {
            print_simulation_summary(ex.model->name, *ex.accelerator, training);
            fmt::print("  inference pass: {} cycles = {:.4g} ms, {:.4g} mJ\n", inference.cycles, inference.seconds * 1e3, inference.total_j() * 1e3);
        }
    }
}
}  // namespace

}  // namespace transcode::engine
