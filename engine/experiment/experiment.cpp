#include "experiment/experiment.hpp"
#include "experiment/sparsity_profile.hpp"
#include "experiment/experiment_runner.hpp"

#include <fmt/format.h>

#include "config/schema_validation.hpp"
#include "transcode/input_file.hpp"
#include "plugin_host/plugin_config.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <optional>

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

// Source glue: the vocabulary file must exist, be a valid vocabulary, and fit the model's token
// embedding (so that `transcode validate` finds all three).
void check_glue_vocabulary(const ValueMap& glue, const config::Node* data_node, const config::Node& root, Experiment& ex, config::Diagnostics& diags) {
    const config::Node* glue_node = data_node != nullptr ? data_node->find("glue") : nullptr;
    const config::Node* n = glue_node != nullptr ? glue_node->find("vocabulary") : nullptr;
    const std::string& file = glue.count("vocabulary") ? glue.at("vocabulary").as_string() : std::string();
    if (n == nullptr || file.empty()) {
        diags.add(glue_node != nullptr ? glue_node->where : data_node != nullptr ? data_node->where : root.where, "data.glue.vocabulary",
                  "data source glue needs a WordPiece vocabulary file (e.g. data/wordpiece/bert-base-uncased-vocab.txt)", "required");
        return;
    }
    if (const std::string problem = input_file_problem(file, max_vocabulary_file_bytes); !problem.empty()) {
        diags.add(n->where, "data.glue.vocabulary",
                  problem == "not found" ? fmt::format("vocabulary file '{}' not found (looked for {})", n->scalar, file)
                                         : fmt::format("vocabulary file '{}' {} (looked for {})", n->scalar, problem, file),
                  is_size_problem(problem) ? "limit" : "file");
        return;
    }
    try {
        const std::shared_ptr<const Vocabulary> vocabulary = Vocabulary::load_shared(file);
        ex.data.vocabulary_file = file;
        std::int64_t rows = -1;
        if (ex.model) {
            TensorId input_ids = -1;
            for (std::size_t t = 0; t < ex.model->forward.tensors.size(); ++t)
                if (ex.model->forward.tensors[t].name == "input_ids") input_ids = static_cast<TensorId>(t);
            for (const auto& op : ex.model->forward.ops)
                if (op.kind == OpKind::embedding && op.inputs[0] == input_ids) rows = ex.model->forward.tensors[static_cast<std::size_t>(op.inputs[1])].shape[0];
        }
        if (rows >= 0 && vocabulary->size() > rows)
            diags.add(n->where, "data.glue.vocabulary",
                      fmt::format("the vocabulary has {} tokens but the model's token embedding has {} rows: set the model's vocab_size to at least {}",
                                  vocabulary->size(), rows, vocabulary->size()),
                      "range");
    } catch (const ConfigError& e) {
        std::string m = e.what();
        if (const std::string tail = " (vocabulary)"; m.size() > tail.size() && m.compare(m.size() - tail.size(), tail.size(), tail) == 0) m.resize(m.size() - tail.size());
        diags.add(n->where, "data.glue.vocabulary", m, "vocabulary");
    }
}

ParamSchema calibration_target_fields() {
    ParamSchema fields;
    for (PruningPoint p : calibratable_points())
        fields.push_back(ParamSpec::floating(to_string(p), fmt::format("target sparsity of the {} point", to_string(p))).min(0).max(1));
    return fields;
}

// A calibrated point (named at `where`, YAML path `path`) needs the strategy's threshold
// parameters for it, and pruning.params and sweep.params must leave them to calibration.
void check_calibrated_point(PruningPoint point, const config::Location& where, const std::string& path, const config::Node& root,
                            const PluginInfo& strategy, config::Diagnostics& diags) {
    const config::Node* pruning = root.find("pruning");
    const config::Node* params_node = pruning != nullptr ? pruning->find("params") : nullptr;
    const config::Node* sweep = root.find("sweep");
    const config::Node* sweep_params = sweep != nullptr ? sweep->find("params") : nullptr;
    std::vector<std::string> params{threshold_param(point, RunMode::training)};
    if (threshold_param(point, RunMode::inference) != params.front()) params.push_back(threshold_param(point, RunMode::inference));
    for (const std::string& param : params) {
        const bool declared = std::any_of(strategy.schema.begin(), strategy.schema.end(), [&](const ParamSpec& s) { return s.name() == param; });
        if (!declared) {
            diags.add(where, path,
                      fmt::format("{} has no parameter '{}' for calibration to set; calibration needs a strategy with a threshold per "
                                  "point (tau_<point>_train and tau_<point>_infer, or tau_<point> for a gradient)",
                                  strategy.name, param),
                      "calibration");
            return;
        }
        for (const config::Node* given : {params_node, sweep_params})
            if (given != nullptr && given->find(param) != nullptr) {
                diags.add(where, path,
                          fmt::format("calibration sets {}, which {} also gives; give one or the other", param,
                                      given == params_node ? "pruning.params" : "sweep.params"),
                          "conflict");
                return;
            }
    }
}

PruningPoint point_named(const std::string& name) {
    for (PruningPoint p : calibratable_points())
        if (name == to_string(p)) return p;
    return PruningPoint::unspecified;
}

// pruning.calibration: the targets, and a strategy that has a threshold parameter for each of them
// (which calibration sets) that pruning.params and the sweep leave alone.
CalibrationSettings load_calibration(const config::Node& root, const ValueMap& values, const PluginInfo& strategy, config::Diagnostics& diags) {
    CalibrationSettings out;
    const ValueMap& cal = values.at("pruning").as_map().at("calibration").as_map();
    out.batches = cal.at("batches").as_int();
    out.rounds = cal.at("rounds").as_int();
    out.every_steps = cal.at("every_steps").as_int();
    const config::Node* pruning = root.find("pruning");
    const config::Node* cal_node = pruning != nullptr ? pruning->find("calibration") : nullptr;
    const config::Node* targets_node = cal_node != nullptr ? cal_node->find("targets") : nullptr;
    for (const auto& [name, target] : cal.at("targets").as_map()) {
        const PruningPoint point = point_named(name);
        const config::Node* at = targets_node != nullptr ? targets_node->find(name) : nullptr;
        check_calibrated_point(point, at != nullptr ? at->where : root.where, "pruning.calibration.targets." + name, root, strategy, diags);
        out.targets[point] = target.as_float();
    }
    const std::string& kind = values.at("kind").as_string();
    const config::Node* sweep = root.find("sweep");
    const bool matched = kind == "dynaprop_sweep" && sweep != nullptr && sweep->find("matched") != nullptr;
    if (out.every_steps > 0 && out.targets.empty() && !matched) {
        const config::Node* every = cal_node != nullptr ? cal_node->find("every_steps") : nullptr;
        diags.add(every != nullptr ? every->where : root.where, "pruning.calibration.every_steps",
                  "every_steps recalibrates the thresholds of pruning.calibration.targets, which is empty: give targets (or use sweep.matched, "
                  "which sets them)",
                  "calibration");
    }
    // kind codesign trains when its accuracy plugin asks the engine's trainer (accuracy.trained).
    if (!out.targets.empty() && kind != "train" && kind != "train_and_simulate" && kind != "dynaprop_sweep" && kind != "codesign")
        diags.add(targets_node != nullptr ? targets_node->where : root.where, "pruning.calibration",
                  fmt::format("kind {} does not train; calibration applies to kinds train, train_and_simulate, dynaprop_sweep and codesign (accuracy.trained)", kind), "kind");
    return out;
}

// sweep.matched: the targets and points, the calibrated strategy (pruning), the compared strategy
// (which must declare keep_fraction and points, set here per target) and the baseline.
std::optional<MatchedSweep> load_matched_sweep(const config::Node& root, const config::Node& matched, const ValueMap& values, Experiment& ex,
                                               PluginHost& host, config::Diagnostics& diags) {
    const std::size_t before = diags.size();
    const ValueMap& m = values.at("sweep").as_map().at("matched").as_map();
    MatchedSweep out;
    for (const Value& t : m.at("targets").as_list()) out.targets.push_back(t.as_float());
    if (matched.find("targets") == nullptr)
        diags.add(matched.where, "sweep.matched.targets", "sweep.matched needs targets: a list of target sparsities (e.g. [0.3, 0.5, 0.7, 0.9])",
                  "required");
    const config::Node* points_node = matched.find("points");
    const ValueList& points = m.at("points").as_list();
    for (std::size_t i = 0; i < points.size(); ++i) {
        const PruningPoint p = point_named(points[i].as_string());
        const config::Location where = points_node != nullptr && points_node->kind == config::Node::Kind::sequence && i < points_node->items.size()
                                           ? points_node->items[i].where
                                           : matched.where;
        if (std::find(out.points.begin(), out.points.end(), p) != out.points.end()) {
            diags.add(where, fmt::format("sweep.matched.points[{}]", i), fmt::format("point {} is listed twice", points[i].as_string()), "duplicate");
            continue;
        }
        out.points.push_back(p);
        check_calibrated_point(p, where, fmt::format("sweep.matched.points[{}]", i), root, *ex.pruning.info, diags);
    }
    const config::Node* pruning = root.find("pruning");
    const config::Node* cal_node = pruning != nullptr ? pruning->find("calibration") : nullptr;
    if (const config::Node* targets = cal_node != nullptr ? cal_node->find("targets") : nullptr; targets != nullptr)
        diags.add(targets->where, "pruning.calibration.targets",
                  "sweep.matched sets the calibration targets (each target at each of sweep.matched.points); leave pruning.calibration.targets out",
                  "conflict");

    // The compared strategy: found by what it declares, never by name.
    const config::Node* compare = matched.find("compare");
    const config::Node* name_node = compare != nullptr ? compare->find("plugin") : nullptr;
    const config::Location where = name_node != nullptr ? name_node->where : compare != nullptr ? compare->where : matched.where;
    const std::string name = m.at("compare").as_map().at("plugin").as_string();
    out.compare.info = find_plugin(host, name, PluginKind::pruning, "pruning plugin", where, "sweep.matched.compare.plugin", diags);
    if (out.compare.info != nullptr) {
        const PluginInfo& info = *out.compare.info;
        const config::Node* params = compare != nullptr ? compare->find("params") : nullptr;
        for (const char* key : {"keep_fraction", "points"}) {
            if (std::none_of(info.schema.begin(), info.schema.end(), [&](const ParamSpec& s) { return s.name() == key; })) {
                diags.add(where, "sweep.matched.compare.plugin",
                          fmt::format("{} has no parameter '{}' for the sweep to set; the compared strategy needs keep_fraction (the fraction of each "
                                      "row kept) and points (the activation points pruned), as pruning.topk has",
                                      info.name, key),
                          "matched");
                return std::nullopt;  // its params are for another strategy: no use checking them against this one
            }
            if (params != nullptr && params->kind == config::Node::Kind::map && params->find(key) != nullptr)
                diags.add(params->find(key)->where, fmt::format("sweep.matched.compare.params.{}", key),
                          fmt::format("the sweep sets {} (keep_fraction = 1 - target, points = sweep.matched.points); leave it out of compare.params", key),
                          "conflict");
        }
        config::Node empty;
        empty.kind = config::Node::Kind::map;
        empty.where = where;
        const config::Node& pn = params != nullptr ? *params : empty;
        const std::size_t mark = diags.size();
        ValueMap p = config::validate_map(pn, info.schema, "sweep.matched.compare.params", diags);
        out.compare.params = Params(p);
        if (diags.size() == mark && diags.size() == before) {
            // Every target's parameters must make a strategy (e.g. k is exclusive with keep_fraction).
            for (double target : out.targets) {
                try {
                    host.create<PruningStrategy>(info, Params(matched_compare_params(out, target)));
                } catch (const ConfigError& e) {
                    report_plugin_config_error(e, pn, "sweep.matched.compare.params", info.name, diags);
                    break;
                }
            }
        }
    }
    const config::Node* baseline = matched.find("baseline");
    out.baseline = resolve_plugin_section(baseline, "sweep.matched.baseline", "none", PluginKind::pruning, "pruning plugin", matched.where, host, diags,
                                          [&](const PluginInfo& info, const Params& params) { host.create<PruningStrategy>(info, params); });
    if (diags.size() != before) return std::nullopt;
    return out;
}

// Why `name` cannot be an experiment name, or "" when it can. The name becomes the output folder
// out/NAME, so it must be a name, never a path: not empty, not '.' or '..', no '/', backslash or
// NUL, and no leading '-' (a command line would read it as an option).
std::string experiment_name_problem(const std::string& name) {
    std::string shown;
    for (char c : name) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    auto refuse = [&](const std::string& why) {
        return fmt::format("'{}' is not a plain name: {}; the experiment name becomes the output folder out/NAME, so it must be a name, not a path",
                           shown, why);
    };
    if (name.empty()) return refuse("it is empty");
    if (name == "." || name == "..") return refuse(fmt::format("it is '{}'", name));
    if (name.find('/') != std::string::npos) return refuse("it holds '/'");
    if (name.find('\\') != std::string::npos) return refuse("it holds '\\'");
    if (name.find('\0') != std::string::npos) return refuse("it holds a NUL byte");
    if (name.front() == '-') return refuse("it starts with '-', which a command line reads as an option");
    return {};
}

}  // namespace

SparsityByRole load_sparsity_profile(const fs::path& file, std::int64_t point, const config::Location& where, config::Diagnostics& diags) {
    static const ParamSchema schema{
        ParamSpec::string("model", "the model the profile was measured on").default_value(""),
        ParamSpec::string("pruning", "the pruning plugin").default_value(""),
        ParamSpec::list("points", "one entry per pruning setting",
                        ParamSpec::map("point", "a pruning setting and what it measured",
                                       {
                                           ParamSpec::open_map("params", "the pruning parameters"),
                                           ParamSpec::map("sparsity", "fraction of zeros per tensor role",
                                                          {
                                                              ParamSpec::floating("activation", "").min(0).max(1).required(),
                                                              ParamSpec::floating("activation_gradient", "").min(0).max(1).required(),
                                                              ParamSpec::floating("weight_gradient", "").min(0).max(1).required(),
                                                          }),
                                           ParamSpec::floating("validation_accuracy", "").min(0).max(1).default_value(0.0),
                                       }))
            .min(1)
            .required(),
    };
    if (const std::string problem = input_file_problem(file, max_config_file_bytes); !problem.empty()) {
        diags.add(where, "simulation.sparsity_profile", fmt::format("sparsity profile '{}' {}", file.string(), problem),
                  is_size_problem(problem) ? "limit" : "file");
        return {};
    }
    const std::size_t before = diags.size();
    const config::Node root = config::load_file(file, diags);
    if (diags.size() != before) return {};
    const ValueMap v = config::validate_map(root, schema, "", diags);
    if (diags.size() != before || !v.count("points")) return {};
    const ValueList& points = v.at("points").as_list();
    if (point >= static_cast<std::int64_t>(points.size())) {
        diags.add(where, "simulation.profile_point", fmt::format("the profile has {} point(s); profile_point {} does not exist", points.size(), point), "range");
        return {};
    }
    const ValueMap& sp = points[static_cast<std::size_t>(point)].as_map().at("sparsity").as_map();
    // A profile measures what the pruning plugin zeroes at run time; the weights it leaves dense.
    return {sp.at("activation").as_float(), sp.at("activation_gradient").as_float(), sp.at("weight_gradient").as_float(), 0.0};
}

ValueMap matched_compare_params(const MatchedSweep& m, double target) {
    ValueMap p = m.compare.params.values();
    p["keep_fraction"] = Value(1.0 - target);
    ValueList points;
    for (PruningPoint point : m.points) points.push_back(Value(std::string(to_string(point))));
    p["points"] = Value(std::move(points));
    return p;
}

CalibrationSettings matched_calibration(const Experiment& ex, double target) {
    CalibrationSettings c = ex.calibration;
    c.targets.clear();
    if (ex.matched)
        for (PruningPoint point : ex.matched->points) c.targets[point] = target;
    return c;
}

const ParamSchema& experiment_schema() {
    static const ParamSchema schema{
        ParamSpec::string("experiment", "name of the experiment; names the default output folder").required(),
        ParamSpec::string("description", "free text, copied into results.json").default_value(""),
        ParamSpec::enumeration("kind",
                               "what the run does: simulate (a model on an accelerator), train (train a model with run-time pruning), "
                               "train_and_simulate (train, then simulate with the measured sparsity), dynaprop_sweep (train and simulate for "
                               "every combination of pruning parameters), sparsity_probe (prune Gaussian tensors), model_report (build and "
                               "describe a model), codesign (search models and accelerators together), sweep (run a simulate, train or train_and_simulate "
                               "experiment at every point of a grid of config values)",
                               {"simulate", "train", "train_and_simulate", "dynaprop_sweep", "sparsity_probe", "model_report", "codesign", "sweep"})
            .required(),
        ParamSpec::integer("seed", "seed of every random choice in the run").min(0).default_value(0),
        ParamSpec::enumeration("mode", "run a training step (forward, backward, update) or inference only", {"training", "inference"})
            .default_value("training"),
        ParamSpec::list("plugins", "extra plugin libraries to load, relative to this file",
                        ParamSpec::string("", "path of a plugin library (.so)"))
            .default_value(ValueList{}),
        ParamSpec::map("pruning", "run-time pruning strategy",
                       {
                           ParamSpec::string("plugin", "pruning plugin name, qualified or short").default_value("dynaprop"),
                           ParamSpec::open_map("params", "the plugin's parameters (see `transcode plugins describe NAME`)"),
                           ParamSpec::map("calibration",
                                          "training kinds: before training (and every `every_steps` steps), set each targeted point's "
                                          "threshold so that it prunes the target fraction of the values it held on the next `batches` "
                                          "training batches (needs a strategy with per-point thresholds: tau_<point>_train / _infer, "
                                          "tau_<point>)",
                                          {
                                              ParamSpec::integer("batches", "training batches the values are collected on")
                                                  .unit("batches")
                                                  .min(1)
                                                  .max(1 << 16)
                                                  .default_value(4),
                                              ParamSpec::integer("rounds",
                                                                 "passes over those batches: the first unpruned, each later one pruned with "
                                                                 "the previous pass's thresholds, so that a threshold accounts for the pruning "
                                                                 "upstream of its point")
                                                  .min(1)
                                                  .max(16)
                                                  .default_value(6),
                                              ParamSpec::integer("every_steps",
                                                                 "recalibrate during training: before every step that follows a positive "
                                                                 "multiple of every_steps optimizer steps, on the next `batches` training "
                                                                 "batches with the current weights (weights, batch order and dropout masks of "
                                                                 "training unchanged; the first pass starts from the thresholds in effect); 0: "
                                                                 "calibrate only before training")
                                                  .unit("steps")
                                                  .min(0)
                                                  .default_value(0),
                                              ParamSpec::map("targets", "target fraction of zeros per pruning point; a point left out keeps its threshold",
                                                             calibration_target_fields()),
                                          }),
                       }),
        ParamSpec::open_map("model", "the model: name, family, params (usually `include: ../models/NAME.yaml`)"),
        ParamSpec::open_map("accelerator", "the accelerator (usually `include: ../accelerators/NAME.yaml`; see configs/accelerators/README.md)"),
        ParamSpec::map("simulation", "kind simulate: how the model is simulated on the accelerator",
                       {
                           ParamSpec::enumeration("fidelity", "event: tile-level event schedule; analytic: per-op closed forms, for large searches",
                                                  {"event", "analytic"})
                               .default_value("event"),
                           ParamSpec::integer("batch_size", "sequences per step; sets the model's params.batch_size (0: keep the model's)")
                               .unit("sequences")
                               .min(0)
                               .max(1 << 16)
                               .default_value(0),
                           ParamSpec::map("sparsity", "fraction of zeros per tensor role, as DynaProp leaves them (0: dense)",
                                          {
                                              ParamSpec::floating("activation", "forward activations").min(0).max(0.999).default_value(0.0),
                                              ParamSpec::floating("activation_gradient", "activation gradients (training)").min(0).max(0.999).default_value(0.0),
                                              ParamSpec::floating("weight_gradient", "weight gradients (training)").min(0).max(0.999).default_value(0.0),
                                              ParamSpec::floating("weight", "weights, pruned or N:M (every weight tensor; optimizer state is dense)")
                                                  .min(0)
                                                  .max(0.999)
                                                  .default_value(0.0),
                                          }),
                           ParamSpec::boolean("trace", "write trace.json (Chrome trace-event format: Perfetto, chrome://tracing)").default_value(true),
                           ParamSpec::string("sparsity_profile",
                                             "a sparsity_profile.yaml written by a training run, relative to this file; its point `profile_point` "
                                             "sets the sparsity (instead of `sparsity`)")
                               .default_value(""),
                           ParamSpec::integer("profile_point", "which point of the profile (0 = the first)").min(0).default_value(0),
                       }),
        ParamSpec::map("optimizer", "the optimizer of the training step's update phase",
                       {
                           ParamSpec::enumeration("type", "optimizer", {"adamw", "sgd"}).default_value("adamw"),
                           ParamSpec::floating("learning_rate", "step size").greater_than(0).default_value(1e-4),
                           ParamSpec::floating("beta1", "AdamW first-moment decay").min(0).max(0.999999).default_value(0.9),
                           ParamSpec::floating("beta2", "AdamW second-moment decay").min(0).max(0.999999999).default_value(0.999),
                           ParamSpec::floating("eps", "AdamW denominator guard").greater_than(0).default_value(1e-8),
                           ParamSpec::floating("weight_decay", "decoupled weight decay (AdamW) or L2 (SGD)").min(0).default_value(0.01),
                           ParamSpec::enumeration("embedding_update",
                                                  "embedding tables: dense updates every row and its optimizer state; sparse only the rows the "
                                                  "step gathered (simulated kinds only: the executor trains with dense updates)",
                                                  {"dense", "sparse"})
                               .default_value("dense"),
                       }),
        ParamSpec::map("data", "kinds train, train_and_simulate, dynaprop_sweep: the sequence-classification data",
                       {
                           ParamSpec::enumeration("source",
                                                  "synthetic: the built-in sentiment task; tsv: your files (label<TAB>tokens per line); glue: GLUE TSV "
                                                  "files (a header naming the columns) tokenised with BERT's WordPiece",
                                                  {"synthetic", "tsv", "glue"})
                               .default_value("synthetic"),
                           ParamSpec::string("train", "tsv, glue: the training file, relative to this file").default_value(""),
                           ParamSpec::string("validation", "tsv, glue: the validation file, relative to this file").default_value(""),
                           ParamSpec::map("glue", "source glue: the WordPiece vocabulary and the columns of the GLUE files",
                                          {
                                              ParamSpec::string("vocabulary", "the WordPiece vocabulary (one token per line, id = line number from 0), "
                                                                              "relative to this file; required by source glue")
                                                  .file_path()
                                                  .default_value(""),
                                              ParamSpec::list("text", "the text column(s): one (a sentence) or two (a sentence pair, e.g. [sentence1, sentence2])",
                                                              ParamSpec::string("", "a column name of the header"))
                                                  .min(1)
                                                  .max(2)
                                                  .default_value(ValueList{Value{std::string("sentence")}}),
                                              ParamSpec::string("label", "the label column").default_value("label"),
                                              ParamSpec::list("label_names", "named labels in class order (e.g. [entailment, not_entailment]); empty: "
                                                                             "integer labels 0..num_classes-1",
                                                              ParamSpec::string("", "a label"))
                                                  .default_value(ValueList{}),
                                          }),
                           ParamSpec::map("synthetic", "the built-in task (negation and intensifier scope), generated from the experiment's seed",
                                          {
                                              ParamSpec::integer("train", "training examples").unit("examples").min(1).max(1 << 22).default_value(4096),
                                              ParamSpec::integer("validation", "validation examples").unit("examples").min(1).max(1 << 22).default_value(1024),
                                              ParamSpec::integer("sentiment_words", "words per polarity").min(1).max(10000).default_value(24),
                                              ParamSpec::integer("filler_words", "neutral words").min(1).max(100000).default_value(64),
                                          }),
                       }),
        ParamSpec::map("training", "kinds train, train_and_simulate, dynaprop_sweep: the training loop (the optimizer section sets the optimizer)",
                       {
                           ParamSpec::integer("epochs", "passes over the training split, counting those of a checkpoint resumed from (0: "
                                                        "evaluate the resume_from checkpoint without training; kind train)")
                               .min(0)
                               .max(100000)
                               .default_value(3),
                           ParamSpec::integer("max_steps_per_epoch", "cap on steps per epoch (0: every batch, the last one partial)").min(0).default_value(0),
                           ParamSpec::enumeration("schedule", "learning rate: linear (warm-up, then linear decay to 0) or constant", {"linear", "constant"})
                               .default_value("linear"),
                           ParamSpec::floating("warmup_fraction", "linear schedule: fraction of all steps spent warming up").min(0).max(1).default_value(0.1),
                           ParamSpec::floating("clip_grad_norm",
                                               "clip the weight gradients to this global L2 norm before each optimizer step, as BERT does (0: off)")
                               .min(0)
                               .default_value(1.0),
                           ParamSpec::boolean("checkpoint",
                                              "kinds train and train_and_simulate: write checkpoint.bin (weights, optimizer state, step, shuffle state) "
                                              "into the output folder after every epoch")
                               .default_value(true),
                           ParamSpec::string("resume_from", "a checkpoint.bin to continue training from (relative to this file); with epochs: 0, "
                                                            "evaluate it without training")
                               .file_path()
                               .default_value(""),
                       }),
        ParamSpec::map("sweep",
                       "kind dynaprop_sweep: the pruning parameters to sweep (params), or a comparison at matched sparsity (matched); kind "
                       "sweep: the kind each point runs (of), the axes and how they combine",
                       {
                           ParamSpec::enumeration("of", "kind sweep: the kind each point runs (required)", {"simulate", "train", "train_and_simulate"}),
                           ParamSpec::enumeration("combine",
                                                  "kind sweep: product (every combination, the last axis varying fastest; the default) or zip "
                                                  "(the i-th value of every axis; axes of equal length)",
                                                  {"product", "zip"}),
                           ParamSpec::list("axes",
                                           "kind sweep: the axes, each {path: P, values: [...]} or {path: P, range: {from: A, to: B, step: S}} "
                                           "(numbers; inclusive; step 1 by default); P is a config path as --set names it, list items "
                                           "included (accelerator.units[activation_buffer].params.size_mb); at most 100000 points",
                                           ParamSpec::open_map("", "an axis: path, and values or range"))
                               .min(1),
                           ParamSpec::floating("point_timeout_s", "kind sweep: wall-clock budget of each point; a point past it is stored as failed (0: none)")
                               .unit("s")
                               .min(0),
                           ParamSpec::open_map("params", "pruning parameter -> list of values; every combination is trained and simulated"),
                           ParamSpec::map(
                               "matched",
                               "instead of params: at each target sparsity, train the pruning strategy calibrated to it at `points` "
                               "(pruning.calibration's batches, rounds and every_steps) and the compared strategy with keep_fraction = "
                               "1 - target at the same points; plus the baseline once",
                               {
                                   ParamSpec::list("targets", "target sparsities (fractions of zeros), in order; required by sweep.matched",
                                                   ParamSpec::floating("", "a target sparsity").min(0).max(0.999))
                                       .min(1)
                                       .max(100)
                                       .default_value(ValueList{}),
                                   ParamSpec::list("points", "the activation pruning points both strategies prune",
                                                   ParamSpec::enumeration("", "an activation pruning point",
                                                                          {"dense", "attention_scores", "attention_probabilities"}))
                                       .min(1)
                                       .default_value(ValueList{Value("dense"), Value("attention_scores"), Value("attention_probabilities")}),
                                   ParamSpec::map("compare",
                                                  "the strategy compared at matched sparsity; it must declare keep_fraction and points, which "
                                                  "the sweep sets",
                                                  {
                                                      ParamSpec::string("plugin", "pruning plugin name, qualified or short").default_value("topk"),
                                                      ParamSpec::open_map("params", "its other parameters"),
                                                  }),
                                   ParamSpec::map("baseline", "the unpruned reference, trained once",
                                                  {
                                                      ParamSpec::string("plugin", "pruning plugin name, qualified or short").default_value("none"),
                                                      ParamSpec::open_map("params", "its parameters"),
                                                  }),
                               }),
                       }),
        ParamSpec::map("probe", "kind sparsity_probe: seeded Gaussian tensors pruned by the strategy",
                       {
                           ParamSpec::integer("rows", "rows of each probe tensor").greater_than(0).max(1 << 20).default_value(256),
                           ParamSpec::integer("cols", "columns of each probe tensor").greater_than(0).max(1 << 20).default_value(256),
                           ParamSpec::floating("activation_std", "standard deviation of the activation tensor").greater_than(0).default_value(1.0),
                           ParamSpec::floating("gradient_std", "standard deviation of the gradient tensors").greater_than(0).default_value(1e-3),
                       }),
    };
    static const ParamSchema with_codesign = [] {
        ParamSchema all = schema;
        for (auto& f : codesign_schema_fields()) all.push_back(std::move(f));
        return all;
    }();
    return with_codesign;
}

namespace {

// kind sweep: the sweep section read and every point validated as an experiment of kind sweep.of
// (engine/sweep). The experiment's fields are point 0's, its kind "sweep"; its model and
// accelerator are left out (each point has its own).
Experiment load_sweep_experiment(config::Node root, config::Diagnostics diags, const fs::path& file, PluginHost& host) {
    if (const config::Node* name = root.find("experiment"); name != nullptr && name->kind == config::Node::Kind::scalar)
        if (const std::string why = experiment_name_problem(name->scalar); !why.empty()) diags.add(name->where, "experiment", why, "name");
    SweepPointKind kind;
    kind.validate = [](config::Node doc, const fs::path& f, PluginHost& h) { load_experiment(std::move(doc), {}, f, h); };
    kind.run = [](config::Node doc, const fs::path& f, const fs::path& out, PluginHost& h) {
        // Loading may load plugin libraries (plugins:), which the host does one thread at a time.
        static std::mutex loading;
        std::optional<Experiment> point;
        {
            const std::lock_guard lock(loading);
            point.emplace(load_experiment(std::move(doc), {}, f, h));
        }
        return run_experiment(*point, h, RunSettings{out, 1, false, true});
    };
    SweepPlan plan = load_sweep_plan(root, file, std::move(kind), host, diags);
    diags.throw_if_any();
    config::Diagnostics none;
    config::Node first = plan.point_document(0, none);
    Experiment ex = load_experiment(std::move(first), std::move(none), file, host);
    ex.kind = "sweep";
    ex.model.reset();
    ex.accelerator.reset();
    ValueMap resolved = ex.resolved.as_map();
    resolved["kind"] = Value{std::string("sweep")};
    resolved.erase("model");
    resolved.erase("accelerator");
    ex.resolved = Value{std::move(resolved)};
    ex.sweep_plan = std::make_shared<const SweepPlan>(std::move(plan));
    return ex;
}

}  // namespace

Experiment load_experiment(const fs::path& file, const std::vector<std::string>& overrides, PluginHost& host) {
    config::Diagnostics diags;
    config::Node root = config::load_file(file, diags);
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    for (const auto& o : overrides) config::apply_override(root, o, diags);
    return load_experiment(std::move(root), std::move(diags), file, host);
}

Experiment load_experiment(config::Node root, config::Diagnostics diags, const fs::path& file, PluginHost& host) {
    if (!diags.empty() && root.kind == config::Node::Kind::null) diags.throw_if_any();
    if (root.kind != config::Node::Kind::map) {
        diags.add(root.where.file.empty() ? config::Location{file.string(), 1, 1} : root.where, "",
                  fmt::format("an experiment must be a map, got {}", root.kind_name()), "type");
        diags.throw_if_any();
    }
    if (const config::Node* kind = root.find("kind"); kind != nullptr && kind->kind == config::Node::Kind::scalar && kind->scalar == "sweep")
        return load_sweep_experiment(std::move(root), std::move(diags), file, host);

    // simulation.batch_size sets the model's batch before the model is built.
    if (const config::Node* sim = root.find("simulation"); sim != nullptr && sim->kind == config::Node::Kind::map)
        if (const config::Node* b = sim->find("batch_size"); b != nullptr && b->kind == config::Node::Kind::scalar && b->scalar != "0" &&
                                                              root.find("model") != nullptr && root.find("model")->kind == config::Node::Kind::map) {
            config::Node& model = *root.find("model");
            config::Node* params = model.find("params");
            if (params == nullptr) {
                config::Node p;
                p.kind = config::Node::Kind::map;
                p.where = model.where;
                model.fields.emplace_back("params", std::move(p));
                model.key_locations.push_back(model.where);
                params = model.find("params");
            }
            if (params->kind == config::Node::Kind::map) {
                if (config::Node* existing = params->find("batch_size"))
                    *existing = *b;
                else {
                    params->fields.emplace_back("batch_size", *b);
                    params->key_locations.push_back(b->where);
                }
            }
        }
    ValueMap values = config::validate_map(root, experiment_schema(), "", diags);
    Experiment ex;
    ex.file = file;
    if (const config::Node* name = root.find("experiment"); name != nullptr && values.count("experiment") && values.at("experiment").is_string())
        if (const std::string why = experiment_name_problem(values.at("experiment").as_string()); !why.empty())
            diags.add(name->where, "experiment", why, "name");

    // Extra plugin libraries, relative to the experiment file.
    if (const config::Node* list = root.find("plugins"); list != nullptr && list->kind == config::Node::Kind::sequence) {
        for (std::size_t i = 0; i < list->items.size(); ++i) {
            const auto& item = list->items[i];
            if (item.kind != config::Node::Kind::scalar) continue;  // reported by validation
            const fs::path lib = fs::path(item.where.file == "--set" ? "" : fs::path(item.where.file).parent_path()) / item.scalar;
            try {
                host.load_library(lib);
            } catch (const PluginError& e) {
                diags.add(item.where, fmt::format("plugins[{}]", i), e.what(), "plugin");
            }
        }
    }

    // The pruning plugin and its parameters.
    const config::Node* pruning = root.find("pruning");
    const ValueMap* pruning_values = values.count("pruning") ? &values.at("pruning").as_map() : nullptr;
    if (pruning_values != nullptr && pruning_values->count("plugin")) {
        const std::string& name = pruning_values->at("plugin").as_string();
        const config::Node* name_node = pruning != nullptr ? pruning->find("plugin") : nullptr;
        const config::Location where = name_node != nullptr ? name_node->where : (pruning != nullptr ? pruning->where : root.where);
        ex.pruning.info = find_plugin(host, name, PluginKind::pruning, "pruning plugin", where, "pruning.plugin", diags);
        if (ex.pruning.info != nullptr) {
            const config::Node* params = pruning != nullptr ? pruning->find("params") : nullptr;
            config::Node empty;
            empty.where = pruning != nullptr ? pruning->where : root.where;
            ValueMap p = config::validate_map(params != nullptr ? *params : empty, ex.pruning.info->schema, "pruning.params", diags);
            ValueMap resolved_pruning{{"plugin", Value{ex.pruning.info->name}}, {"params", Value{p}}};
            if (pruning_values->count("calibration")) resolved_pruning["calibration"] = pruning_values->at("calibration");
            values["pruning"] = Value{std::move(resolved_pruning)};
            ex.pruning.params = Params(std::move(p));
            // Let the plugin check what its schema cannot (cross-field rules) now, so that its
            // ConfigError is located at the parameter it names, like any other config error.
            if (diags.empty()) {
                const config::Node& pn = params != nullptr ? *params : empty;
                try {
                    host.create<PruningStrategy>(*ex.pruning.info, ex.pruning.params);
                } catch (const ConfigError& e) {
                    report_plugin_config_error(e, pn, "pruning.params", ex.pruning.info->name, diags);
                }
            }
        }
    }
    if (ex.pruning.info != nullptr && diags.empty()) ex.calibration = load_calibration(root, values, *ex.pruning.info, diags);
    // The model, if any: validated, built and checked with its family plugin.
    if (const config::Node* model = root.find("model"); model != nullptr && model->kind == config::Node::Kind::map) {
        ex.model = resolve_model(*model, "model", host, diags);
        if (ex.model)
            values["model"] = Value{ValueMap{{"name", Value{ex.model->name}},
                                             {"family", Value{ex.model->family->name}},
                                             {"description", Value{ex.model->description}},
                                             {"params", Value{ex.model->params.values()}}}};
    } else if (values.count("kind") && values.at("kind").as_string() != "sparsity_probe" && values.at("kind").as_string() != "codesign" && model == nullptr) {
        diags.add(root.where, "model",
                  fmt::format("kind {} needs a model section (e.g. model: {{include: ../models/bert-tiny.yaml}})", values.at("kind").as_string()), "required");
    }
    // The accelerator, if any; kind simulate needs one that runs every op kind of the step.
    const config::Node* accelerator = root.find("accelerator");
    if (accelerator != nullptr && accelerator->kind == config::Node::Kind::map) {
        ex.accelerator = resolve_accelerator(*accelerator, "accelerator", host, diags);
        if (ex.accelerator && ex.model) {
            const bool training = values.count("mode") && values.at("mode").as_string() == "training";
            OptimizerSettings opt;
            if (values.count("optimizer") && values.at("optimizer").as_map().count("type"))
                opt.kind = values.at("optimizer").as_map().at("type").as_string() == "adamw" ? OptimizerSettings::Kind::adamw : OptimizerSettings::Kind::sgd;
            const ModelGraph step = training ? make_training_graph(ex.model->forward, opt) : ex.model->forward;
            for (const auto& [kind, op] : unsupported_op_kinds(step, *ex.accelerator)) {
                std::string kinds;
                for (const auto& u : ex.accelerator->units)
                    if (u.role == ComponentRole::compute) {
                        kinds += fmt::format("{}{}:", kinds.empty() ? "" : "; ", u.name);
                        for (OpKind k : u.executes) kinds += fmt::format(" {}", to_string(k));
                    }
                // Located at the accelerator's name, which is in the accelerator's own file.
                const config::Node* name = accelerator->find("name");
                diags.add(name != nullptr ? name->where : accelerator->where, "accelerator",
                          fmt::format("accelerator '{}' has no unit that executes op kind '{}' (needed by op '{}' of model '{}'); its units run: {}",
                                      ex.accelerator->name, to_string(kind), op, ex.model->name, kinds),
                          "unsupported-op");
            }
        }
        if (ex.accelerator)
            values["accelerator"] = Value{ValueMap{{"name", Value{ex.accelerator->name}}, {"description", Value{ex.accelerator->description}}}};
    } else if (values.count("kind") && accelerator == nullptr) {
        const std::string& kind = values.at("kind").as_string();
        if (kind == "simulate" || kind == "train_and_simulate" || kind == "dynaprop_sweep")
            diags.add(root.where, "accelerator",
                      fmt::format("kind {} needs an accelerator section (e.g. accelerator: {{include: ../accelerators/acceltran-edge.yaml}})", kind),
                      "required");
    }
    // Data files, relative to the experiment.
    if (values.count("data")) {
        const ValueMap& data = values.at("data").as_map();
        const config::Node* data_node = root.find("data");
        const std::string source = data.count("source") ? data.at("source").as_string() : "";
        if (source == "tsv" || source == "glue")
            for (const char* key : {"train", "validation"}) {
                const config::Node* n = data_node != nullptr ? data_node->find(key) : nullptr;
                if (n == nullptr || n->scalar.empty()) {
                    diags.add(data_node != nullptr ? data_node->where : root.where, fmt::format("data.{}", key),
                              fmt::format("data source {} needs a {} file", source, key), "required");
                    continue;
                }
                const fs::path base = n->where.file == "--set" || n->where.file.empty() ? fs::path() : fs::path(n->where.file).parent_path();
                const fs::path p = base / n->scalar;
                if (const std::string problem = input_file_problem(p, max_data_file_bytes); !problem.empty())
                    diags.add(n->where, fmt::format("data.{}", key),
                              problem == "not found" ? fmt::format("data file '{}' not found (looked for {})", n->scalar, p.string())
                                                     : fmt::format("data file '{}' {} (looked for {})", n->scalar, problem, p.string()),
                              is_size_problem(problem) ? "limit" : "file");
                else
                    (std::string(key) == "train" ? ex.data.train_file : ex.data.validation_file) = p;
            }
        if (source == "glue" && data.count("glue")) check_glue_vocabulary(data.at("glue").as_map(), data_node, root, ex, diags);
    }
    // Checkpoints: resume_from must exist; epochs 0 evaluates it (kind train only).
    if (values.count("training")) {
        const ValueMap& tr = values.at("training").as_map();
        const config::Node* tr_node = root.find("training");
        const auto at = [&](const char* key) {
            const config::Node* n = tr_node != nullptr ? tr_node->find(key) : nullptr;
            return n != nullptr ? n->where : tr_node != nullptr ? tr_node->where : root.where;
        };
        const std::string resume = tr.count("resume_from") ? tr.at("resume_from").as_string() : "";
        const std::int64_t epochs = tr.count("epochs") ? tr.at("epochs").as_int() : 1;
        const std::string resume_problem = resume.empty() ? "" : input_file_problem(resume, std::numeric_limits<std::uintmax_t>::max());
        if (!resume_problem.empty())
            diags.add(at("resume_from"), "training.resume_from",
                      resume_problem == "not found" ? fmt::format("checkpoint '{}' not found", resume) : fmt::format("checkpoint '{}' {}", resume, resume_problem),
                      "file");
        const std::string kind = values.count("kind") ? values.at("kind").as_string() : "";
        if (epochs == 0 && resume.empty())
            diags.add(at("epochs"), "training.epochs", "epochs 0 evaluates a checkpoint: give training.resume_from", "required");
        else if (!resume.empty() && kind == "dynaprop_sweep")
            diags.add(at("resume_from"), "training.resume_from", "kind dynaprop_sweep trains every point afresh: resume_from is for kinds train and "
                      "train_and_simulate", "conflict");
        else if (epochs == 0 && kind != "train")
            diags.add(at("epochs"), "training.epochs", fmt::format("epochs 0 (evaluate a checkpoint) needs kind train, not {}", kind), "conflict");
    }
    // The sweep: each key a pruning parameter, each value a list of values of its type.
    // Or the comparison at matched sparsity (sweep.matched).
    if (values.count("kind") && values.at("kind").as_string() == "dynaprop_sweep" && ex.pruning.info != nullptr) {
        const config::Node* sweep = root.find("sweep");
        const config::Node* params = sweep != nullptr ? sweep->find("params") : nullptr;
        const config::Node* matched = sweep != nullptr ? sweep->find("matched") : nullptr;
        if (sweep != nullptr && sweep->kind == config::Node::Kind::map)
            for (const char* key : {"of", "combine", "axes", "point_timeout_s"})
                if (const config::Node* n = sweep->find(key))
                    diags.add(n->where, fmt::format("sweep.{}", key),
                              fmt::format("sweep.{} is for kind sweep; kind dynaprop_sweep takes sweep.params or sweep.matched", key), "kind");
        if (matched != nullptr) {
            if (params != nullptr)
                diags.add(matched->where, "sweep.matched",
                          "give sweep.params (every combination of pruning parameters) or sweep.matched (a comparison at matched sparsity), not both",
                          "conflict");
            else if (diags.empty())
                ex.matched = load_matched_sweep(root, *matched, values, ex, host, diags);
        } else if (params == nullptr || params->kind != config::Node::Kind::map || params->fields.empty()) {
            diags.add(sweep != nullptr ? sweep->where : root.where, "sweep.params",
                      "kind dynaprop_sweep needs sweep.params: a map from pruning parameter to a list of values (e.g. tau_t: [0, 1.0e-4]), or "
                      "sweep.matched",
                      "required");
        } else {
            std::vector<std::pair<std::string, std::vector<Value>>> axes;
            std::vector<std::string> names;
            for (const auto& spec : ex.pruning.info->schema) names.push_back(spec.name());
            for (std::size_t f = 0; f < params->fields.size(); ++f) {
                // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
                const std::string& key = params->fields[f].first;
                const config::Node& node = params->fields[f].second;
                const std::string path = "sweep.params." + key;
                const auto spec = std::find_if(ex.pruning.info->schema.begin(), ex.pruning.info->schema.end(), [&](const ParamSpec& p) { return p.name() == key; });
                if (spec == ex.pruning.info->schema.end()) {
                    const std::string near = config::closest_match(key, names);
                    diags.add(params->key_locations[f], path,
                              near.empty() ? fmt::format("'{}' is not a parameter of {}", key, ex.pruning.info->name)
                                           : fmt::format("'{}' is not a parameter of {}; did you mean '{}'?", key, ex.pruning.info->name, near),
                              "unknown-key");
                    continue;
                }
                if (node.kind != config::Node::Kind::sequence || node.items.empty()) {
                    diags.add(node.where, path, fmt::format("expected a non-empty list of values, got a {}", node.kind_name()), "type");
                    continue;
                }
                std::vector<Value> axis;
                for (std::size_t i = 0; i < node.items.size(); ++i) axis.push_back(config::validate_value(node.items[i], *spec, fmt::format("{}[{}]", path, i), diags));
                axes.emplace_back(key, std::move(axis));
            }
            std::size_t combos = 1;
            for (const auto& a : axes) combos *= a.second.size();
            if (combos > 1000) diags.add(params->where, "sweep.params", fmt::format("{} combinations; a sweep may have at most 1000", combos), "range");
            if (diags.empty() && !axes.empty()) {
                for (std::size_t c = 0; c < combos; ++c) {
                    std::size_t rest = c;
                    SweepPoint point;
                    ValueMap p = ex.pruning.params.values();
                    for (auto a = axes.rbegin(); a != axes.rend(); ++a) {  // the first key varies slowest
                        const Value& v = a->second[rest % a->second.size()];
                        rest /= a->second.size();
                        p[a->first] = v;
                        point.changed[a->first] = v;
                    }
                    point.params = Params(std::move(p));
                    try {
                        host.create<PruningStrategy>(*ex.pruning.info, point.params);
                    } catch (const ConfigError& e) {
                        diags.add(params->where, "sweep.params", fmt::format("combination {}: {}", c + 1, e.what()), ex.pruning.info->name);
                    }
                    ex.sweep.push_back(std::move(point));
                }
            }
        }
    }
    if (values.count("kind") && values.at("kind").as_string() == "codesign" && diags.empty()) {
        const auto seed = values.count("seed") ? static_cast<std::uint64_t>(values.at("seed").as_int()) : 0;
        ex.codesign = load_codesign(root, values, seed, host, diags);
    }
    diags.throw_if_any();

    ex.name = values.at("experiment").as_string();
    ex.description = values.at("description").as_string();
    ex.kind = values.at("kind").as_string();
    ex.seed = static_cast<std::uint64_t>(values.at("seed").as_int());
    ex.mode = values.at("mode").as_string() == "training" ? RunMode::training : RunMode::inference;
    const ValueMap& probe = values.at("probe").as_map();
    ex.probe.rows = probe.at("rows").as_int();
    ex.probe.cols = probe.at("cols").as_int();
    ex.probe.activation_std = probe.at("activation_std").as_float();
    ex.probe.gradient_std = probe.at("gradient_std").as_float();
    const ValueMap& opt = values.at("optimizer").as_map();
    ex.optimizer.kind = opt.at("type").as_string() == "adamw" ? OptimizerSettings::Kind::adamw : OptimizerSettings::Kind::sgd;
    ex.optimizer.learning_rate = opt.at("learning_rate").as_float();
    ex.optimizer.beta1 = opt.at("beta1").as_float();
    ex.optimizer.beta2 = opt.at("beta2").as_float();
    ex.optimizer.eps = opt.at("eps").as_float();
    ex.optimizer.weight_decay = opt.at("weight_decay").as_float();
    ex.optimizer.sparse_embedding_update = opt.at("embedding_update").as_string() == "sparse";
    if (ex.optimizer.sparse_embedding_update && (ex.kind == "train" || ex.kind == "train_and_simulate" || ex.kind == "dynaprop_sweep")) {
        const config::Node* n = config::find_path(root, "optimizer.embedding_update");
        diags.add(n != nullptr ? n->where : root.where, "optimizer.embedding_update",
                  fmt::format("sparse embedding updates are simulated only; kind {} trains with the executor, whose updates are dense", ex.kind), "conflict");
        diags.throw_if_any();
    }
    const ValueMap& data = values.at("data").as_map();
    ex.data.source = data.at("source").as_string() == "tsv"    ? DataSettings::Source::tsv
                     : data.at("source").as_string() == "glue" ? DataSettings::Source::glue
                                                               : DataSettings::Source::synthetic;
    const ValueMap& glue = data.at("glue").as_map();
    ex.data.glue.text_columns.clear();
    for (const auto& c : glue.at("text").as_list()) ex.data.glue.text_columns.push_back(c.as_string());
    ex.data.glue.label_column = glue.at("label").as_string();
    for (const auto& c : glue.at("label_names").as_list()) ex.data.glue.label_names.push_back(c.as_string());
    const ValueMap& syn = data.at("synthetic").as_map();
    ex.data.synthetic.train = syn.at("train").as_int();
    ex.data.synthetic.validation = syn.at("validation").as_int();
    ex.data.synthetic.sentiment_words = syn.at("sentiment_words").as_int();
    ex.data.synthetic.filler_words = syn.at("filler_words").as_int();
    ex.data.synthetic.seed = ex.seed;
    const ValueMap& tr = values.at("training").as_map();
    ex.training.epochs = tr.at("epochs").as_int();
    ex.training.max_steps_per_epoch = tr.at("max_steps_per_epoch").as_int();
    ex.training.schedule = tr.at("schedule").as_string() == "linear" ? TrainingSettings::Schedule::linear : TrainingSettings::Schedule::constant;
    ex.training.warmup_fraction = tr.at("warmup_fraction").as_float();
    ex.training.seed = ex.seed;
    ex.training.clip_grad_norm = tr.at("clip_grad_norm").as_float();
    ex.checkpoint.save = tr.at("checkpoint").as_bool();
    ex.checkpoint.resume_from = tr.at("resume_from").as_string();
    const ValueMap& sim = values.at("simulation").as_map();
    ex.simulation.fidelity = sim.at("fidelity").as_string() == "event" ? Fidelity::event : Fidelity::analytic;
    ex.simulation.trace = sim.at("trace").as_bool();
    const ValueMap& sp = sim.at("sparsity").as_map();
    ex.simulation.sparsity.activation = sp.at("activation").as_float();
    ex.simulation.sparsity.activation_gradient = sp.at("activation_gradient").as_float();
    ex.simulation.sparsity.weight_gradient = sp.at("weight_gradient").as_float();
    ex.simulation.sparsity.weight = sp.at("weight").as_float();
    if (const std::string& profile = sim.at("sparsity_profile").as_string(); !profile.empty()) {
        const config::Node* sim_node = root.find("simulation");
        const config::Node* at = sim_node != nullptr ? sim_node->find("sparsity_profile") : nullptr;
        const config::Location where = at != nullptr ? at->where : root.where;
        if (sim_node != nullptr && sim_node->find("sparsity") != nullptr)
            diags.add(where, "simulation.sparsity_profile", "give either simulation.sparsity or simulation.sparsity_profile, not both", "conflict");
        const fs::path base = where.file == "--set" || where.file.empty() ? fs::path() : fs::path(where.file).parent_path();
        ex.simulation.sparsity = load_sparsity_profile(base / profile, sim.at("profile_point").as_int(), where, diags);
        ex.simulation.sparsity_source = fmt::format("profile {} point {}", (base / profile).string(), sim.at("profile_point").as_int());
        diags.throw_if_any();
    }
    ex.resolved = Value{std::move(values)};
    return ex;
}

}  // namespace transcode::engine
