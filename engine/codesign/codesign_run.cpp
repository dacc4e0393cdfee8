#include "codesign/codesign_run.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "codesign/evaluator.hpp"
#include "codesign/record_json.hpp"
#include "common/atomic_file.hpp"
#include "common/csv_table.hpp"
#include "common/progress.hpp"
#include "common/output_folder.hpp"
#include "codesign/result_store.hpp"
#include "report/results.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

nlohmann::json record_json(const EvaluationRecord& r) {
    nlohmann::json j{{"design", r.design},
                     {"model_params", r.model.empty() ? nlohmann::json() : nlohmann::json::parse(r.model, nullptr, false)},
                     {"accelerator", r.accelerator},
                     {"status", r.ok ? "ok" : "infeasible"}};
    if (!r.ok) {
        j["reason"] = r.reason;
        j["violation"] = r.violation;
    }
    if (!r.candidate.empty() || r.round >= 0) j["candidate"] = r.candidate;
    j["accuracy"] = r.accuracy;
    j["accuracy_source"] = r.accuracy_source;
    if (const nlohmann::json d = accuracy_details_json(r); !d.empty()) j["accuracy_details"] = d;
    j["latency_s"] = r.metrics.latency_s;
    j["cycles"] = r.cycles;
    j["energy_j"] = r.metrics.energy_j;
    j["dynamic_j"] = r.dynamic_j;
    j["leakage_j"] = r.leakage_j;
    j["area_mm2"] = r.metrics.area_mm2;
    // Latency and energy come from a simulation with the sparsity the accuracy estimator gave for
    // this model when it gave one, else with the experiment's simulation.sparsity.
    j["sparsity_from"] = r.accuracy_sparsity.empty() ? "experiment" : "accuracy estimate";
    j["score"] = r.score;
    j["objectives"] = {{"accuracy_loss", r.objectives[0]}, {"latency", r.objectives[1]}, {"energy", r.objectives[2]}, {"area", r.objectives[3]}};
    return j;
}

// accuracy.csv's columns after model, accuracy and source.
constexpr const char* sparsity_roles[] = {"activation", "activation_gradient", "weight_gradient"};

std::vector<std::string> accuracy_csv_extra_header() {
    std::vector<std::string> h{"steps", "examples", "sequence_length", "batch_size", "epochs", "validation_examples", "train_seconds"};
    for (const char* role : sparsity_roles) h.push_back(fmt::format("sparsity_{}", role));
    return h;
}

std::vector<std::string> accuracy_csv_extra(const EvaluationRecord& r) {
    std::vector<std::string> row(7);
    if (r.training) {
        const TrainingOutcome& t = *r.training;
        row = {fmt::format("{}", t.steps), fmt::format("{}", t.examples), fmt::format("{}", t.sequence_length), fmt::format("{}", t.batch_size),
               fmt::format("{}", t.epochs), fmt::format("{}", t.validation_examples), fmt::format("{:.1f}", t.seconds)};
    }
    for (const char* role : sparsity_roles) {
        const auto it = r.accuracy_sparsity.find(role);
        row.push_back(it != r.accuracy_sparsity.end() ? fmt::format("{:.6g}", it->second) : std::string());
    }
    return row;
}

// pareto.csv and evaluations.csv: one row per evaluation, one column per knob (model.NAME,
// accelerator.NAME; empty where the knob is inactive) and per objective.
CsvTable evaluations_table(const CodesignSettings& cs) {
    std::vector<std::string> columns{"evaluation", "round", "slot", "status", "repeat"};
    const std::size_t model_knobs = cs.model.space.size();
    for (std::size_t k = 0; k < cs.joint.size(); ++k) columns.push_back((k < model_knobs ? "model." : "accelerator.") + cs.joint.knobs()[k].name);
    for (const char* c : {"accuracy_fraction", "accuracy_stddev", "accuracy_source", "latency_s", "cycles", "energy_j", "dynamic_j", "leakage_j",
                          "area_mm2", "score", "objective_accuracy_loss", "objective_latency", "objective_energy", "objective_area", "violation",
                          "reason", "seconds"})
        columns.emplace_back(c);
    return CsvTable(std::move(columns));
}

void add_evaluation_row(CsvTable& table, const CodesignSettings& cs, std::size_t index, const EvaluationRecord& r) {
    std::vector<std::string> row{fmt::format("{}", index + 1), fmt::format("{}", r.round), fmt::format("{}", r.slot), r.ok ? "ok" : "infeasible",
                                 r.cached ? "1" : "0"};
    for (std::size_t k = 0; k < cs.joint.size(); ++k)
        row.push_back(k < r.candidate.size() && cs.joint.active(r.candidate, k) ? to_text(cs.joint.knobs()[k].values[r.candidate[k]]) : std::string());
    for (const std::string& f :
         {fmt::format("{}", r.accuracy), fmt::format("{}", r.accuracy_stddev), r.accuracy_source, fmt::format("{}", r.metrics.latency_s),
          fmt::format("{}", r.cycles), fmt::format("{}", r.metrics.energy_j), fmt::format("{}", r.dynamic_j), fmt::format("{}", r.leakage_j),
          fmt::format("{}", r.metrics.area_mm2), fmt::format("{}", r.score), fmt::format("{}", r.objectives[0]), fmt::format("{}", r.objectives[1]),
          fmt::format("{}", r.objectives[2]), fmt::format("{}", r.objectives[3]), fmt::format("{}", r.violation), r.reason, fmt::format("{:.3f}", r.seconds)})
        row.push_back(f);
    table.add_row(row);
}

// A node's field set to a string, replacing it in place or appended.
void set_text_field(config::Node& map, const std::string& key, const std::string& text) {
    config::Node value;
    value.kind = config::Node::Kind::scalar;
    value.scalar = text;
    value.quoted = true;
    if (config::Node* field = map.find(key)) {
        *field = value;
        return;
    }
    map.fields.emplace_back(key, value);
    map.key_locations.emplace_back();
}

// best_model.yaml and best_accelerator.yaml: the best pair as block YAML that `transcode simulate`
// reads, named after the experiment, under a header that says where it came from and its scores.
void write_best_pair(const fs::path& out, const Experiment& ex, const CodesignSettings& cs, std::size_t index, const EvaluationRecord& r) {
    DecodedPair pair = decode_joint(cs, r.candidate);
    const std::string name = ex.name + "-best";
    for (auto [node, what, base] : {std::tuple{&pair.model, "model", cs.model.name}, std::tuple{&pair.accelerator, "accelerator", cs.accelerator.name}}) {
        if (node->kind != config::Node::Kind::map) continue;
        set_text_field(*node, "name", name);
        if (std::string(what) == "accelerator")
            set_text_field(*node, "description", fmt::format("the best accelerator of co-design '{}' (evaluation {}), from the design space {}", ex.name,
                                                             index + 1, base));
    }
    const std::string scores = fmt::format("score {:.6g}, accuracy {:.2f}%, latency {:.6g} ms, energy {:.6g} mJ, area {:.6g} mm2", r.score, 100 * r.accuracy,
                                           1e3 * r.metrics.latency_s, 1e3 * r.metrics.energy_j, r.metrics.area_mm2);
    const std::string mode = ex.mode == RunMode::training ? " --mode training" : "";
    for (auto [file, what, node] : {std::tuple{"best_model.yaml", "model", &pair.model}, std::tuple{"best_accelerator.yaml", "accelerator", &pair.accelerator}}) {
        std::string text = fmt::format("# The {} of the best pair of co-design experiment '{}' ({}).\n", what, ex.name, ex.file.filename().string());
        text += fmt::format("# Found by {} (seed {}) at evaluation {} of {} (round {}, slot {}); design spaces {} x {}.\n", cs.search.info->name, ex.seed,
                            index + 1, cs.evaluations, r.round, r.slot, cs.model.name, cs.accelerator.name);
        text += fmt::format("# Scores: {}.\n", scores);
        text += fmt::format("# Accuracy from {}.\n", r.accuracy_source);
        text += fmt::format("# Its knobs are row {} of evaluations.csv. Simulate the pair again with:\n", index + 1);
        text += fmt::format("#   transcode simulate --model best_model.yaml --accelerator best_accelerator.yaml{} --fidelity {}\n", mode,
                            to_string(ex.simulation.fidelity));
        write_file_atomically(out / file, text + to_block_text(*node));
    }
}

// Why nothing was feasible: the commonest reasons, with the numbers in them blanked so that
// "area 61.2 mm2 is over ..." and "area 70.4 mm2 is over ..." count as one.
std::string no_feasible_message(const Experiment& ex, const std::vector<EvaluationRecord>& all) {
    std::map<std::string, std::pair<std::size_t, std::string>> kinds;  // pattern -> (count, first example)
    for (const auto& r : all) {
        std::string pattern;
        for (std::size_t i = 0; i < r.reason.size(); ++i) {
            const char c = r.reason[i];
            if ((c >= '0' && c <= '9') || ((c == '.' || c == 'e' || c == '+' || c == '-') && !pattern.empty() && pattern.back() == '#')) {
                if (pattern.empty() || pattern.back() != '#') pattern += '#';
            } else {
                pattern += c;
            }
        }
        auto& k = kinds[pattern];
        if (k.first++ == 0) k.second = r.reason;
    }
    std::vector<std::pair<std::size_t, std::string>> ranked;
    for (const auto& [pattern, k] : kinds) ranked.push_back(k);
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::string text = fmt::format("{}: error: search.give_up_after: no feasible design in {} evaluations; is the budget or the space too tight? "
                                   "Commonest reasons:",
                                   ex.file.string(), all.size());
    for (std::size_t i = 0; i < std::min<std::size_t>(3, ranked.size()); ++i) text += fmt::format("\n  {} of {}: {}", ranked[i].first, all.size(), ranked[i].second);
    return text + fmt::format("\nEvery evaluation is stored in the database; raise search.give_up_after (0: never give up) to search longer.");
}

}  // namespace

namespace {

// The baseline pair (when the experiment has one), evaluated and scored, its metrics the
// evaluator's default normalisers. Deterministic, so every MPI rank resolves the same normalisers.
std::optional<EvaluationRecord> evaluate_baseline(const Experiment& ex, Evaluator& evaluator) {
    const CodesignSettings& cs = *ex.codesign;
    std::optional<EvaluationRecord> baseline;
    if (cs.baseline_model && cs.baseline_accelerator) {
        const config::Node* name = cs.baseline_accelerator->find("name");
        baseline = evaluator.evaluate_pair(*cs.baseline_model, *cs.baseline_accelerator, name != nullptr ? name->scalar : "baseline", false);
        if (!baseline->ok) throw ConfigError(fmt::format("{}: error: baseline: the baseline pair is infeasible: {}", ex.file.string(), baseline->reason));
        evaluator.resolve_normalisers(*baseline);
        evaluator.score(*baseline);
    }
    return baseline;
}

// What a pool worker does with one candidate: JSON array of knob indices -> the record as JSON.
distributed::WorkFunction evaluation_work(const Evaluator& evaluator) {
    return [&evaluator](const std::string& payload) { return record_to_json(evaluator.evaluate(nlohmann::json::parse(payload).get<Candidate>())).dump(); };
}

}  // namespace

distributed::WorkFunction codesign_worker(const Experiment& ex, PluginHost& host) {
    auto evaluator = std::make_shared<Evaluator>(ex, host);
    evaluate_baseline(ex, *evaluator);
    return [evaluator, work = evaluation_work(*evaluator)](const std::string& payload) { return work(payload); };
}

void run_codesign(const Experiment& ex, PluginHost& host, const fs::path& out, const CodesignRunOptions& options, nlohmann::json& doc) {
    const CodesignSettings& cs = *ex.codesign;
    const auto t_start = std::chrono::steady_clock::now();
    Evaluator evaluator(ex, host);

    // The baseline first: it is the default normaliser of latency, energy and area.
    const std::optional<EvaluationRecord> baseline = evaluate_baseline(ex, evaluator);
    std::optional<distributed::LocalPool> local_pool;
    distributed::WorkPool* pool = options.pool;
    if (pool == nullptr) pool = &local_pool.emplace(options.threads);
    const distributed::WorkFunction work = evaluation_work(evaluator);
    const ObjectiveSettings& objective = evaluator.objective();
    // An estimator that cannot tell the space's models apart (a table that holds constant what the
    // space varies) is an error before the search, not noise during it.
    try {
        evaluator.check_accuracy_domain(64);
    } catch (const ConfigError& e) {
        throw ConfigError(fmt::format("{}: error: accuracy.params{}: {}", ex.file.string(), e.path().empty() ? "" : "." + e.path(), e.what()));
    }

    // What a resumed database must agree on.
    std::string signature;
    for (const auto& k : cs.joint.knobs()) signature += fmt::format("{}:{};", k.name, k.values.size());
    const nlohmann::json objective_json{
        {"weights", {{"accuracy", objective.w_accuracy}, {"latency", objective.w_latency}, {"energy", objective.w_energy}, {"area", objective.w_area}}},
        {"normalisers", {{"latency_s", objective.latency_s}, {"energy_j", objective.energy_j}, {"area_mm2", objective.area_mm2}}},
        {"penalty", objective.penalty},
        {"reference_point",
         {{"accuracy_loss", objective.reference[0]}, {"latency", objective.reference[1]}, {"energy", objective.reference[2]}, {"area", objective.reference[3]}}}};
    const std::map<std::string, std::string> meta{
        {"experiment", ex.name},
        {"seed", std::to_string(ex.seed)},
        {"space", fmt::format("{:016x}", seed_from(0, signature))},
        {"search", fmt::format("{} {}", cs.search.info->name, to_json(Value{cs.search.params.values()}).dump())},
        {"accuracy", fmt::format("{} {}", cs.accuracy.info->name, to_json(Value{cs.accuracy.params.values()}).dump())},
        {"objective", objective_json.dump()},
        {"batch", std::to_string(cs.batch)},
        {"mode", ex.mode == RunMode::training ? "training" : "inference"},
        {"fidelity", to_string(ex.simulation.fidelity)},
        {"format", "2"},  // 2: constrained domination (violation, accuracy_stddev columns)
    };
    ResultStore store(out / "search.db", options.resume, meta);
    remove_stale_results(out);  // the folder is this run's now (common/output_folder.hpp)
    const auto stored = store.load();
    if (options.resume) spdlog::info("resuming: {} stored evaluation(s) in {}", stored.size(), store.file().string());

    const auto search = host.create<SearchAlgorithm>(*cs.search.info, cs.search.params);
    const SearchBudget budget{static_cast<std::size_t>(cs.evaluations), static_cast<std::size_t>(cs.batch)};
    call_plugin(search.name(), "start", [&] { search->start(cs.joint, ex.seed, budget); });
    const distributed::PoolStats pool_start = pool->stats();
    spdlog::info("co-design: {} knob(s), 10^{:.1f} candidates; search {}, accuracy {}, {} evaluations in batches of {}, {}", cs.joint.size(),
                 cs.joint.log10_count(), cs.search.info->name, cs.accuracy.info->name, cs.evaluations, cs.batch,
                 pool_start.ranks > 1 ? fmt::format("{} MPI ranks", pool_start.ranks) : fmt::format("{} thread(s)", options.threads));

    std::vector<EvaluationRecord> all;
    std::map<Candidate, std::size_t> first_seen;  // candidate -> index in `all` of its first evaluation
    ProgressReporter progress(options.quiet);
    std::int64_t last_tenth = -1;  // a kept line (or a log line) every tenth of the budget
    double best_score = -std::numeric_limits<double>::infinity();
    std::int64_t evaluated_now = 0, reused = 0;
    // The search's progress after each round: the Pareto front of the feasible designs so far,
    // kept incrementally, and its hypervolume (convergence.csv).
    std::vector<Objectives> front_so_far;
    std::int64_t feasible_so_far = 0;
    std::optional<std::int64_t> first_feasible;
    CsvTable convergence({"round", "evaluations", "feasible", "best_score", "hypervolume"});
    double eval_seconds = 0;
    const auto t_loop = std::chrono::steady_clock::now();  // throughput counts the search loop only
    for (std::int64_t round = 0; static_cast<std::int64_t>(all.size()) < cs.evaluations; ++round) {
        const auto n = static_cast<std::size_t>(std::min<std::int64_t>(cs.batch, cs.evaluations - static_cast<std::int64_t>(all.size())));
        const std::vector<Candidate> asked = call_plugin(search.name(), "ask", [&] { return search->ask(n); });
        if (asked.empty()) break;
        if (asked.size() > n) throw PluginError(fmt::format("plugin '{}' failed in ask(): asked for {} candidates, got {}", search.name(), n, asked.size()));
        std::vector<EvaluationRecord> batch(asked.size());
        std::vector<std::size_t> todo;
        for (std::size_t i = 0; i < asked.size(); ++i) {
            if (!cs.joint.is_canonical(asked[i]))
                throw PluginError(fmt::format("plugin '{}' failed in ask(): candidate {} of round {} is not a valid candidate of the space", search.name(), i, round));
            if (const auto it = stored.find({round, static_cast<std::int64_t>(i)}); it != stored.end()) {
                if (it->second.candidate != asked[i])
                    throw ConfigError(fmt::format("{}: cannot resume: round {} slot {} holds another candidate than the search asks now "
                                                  "(was a plugin or design-space file changed since?)",
                                                  store.file().string(), round, i));
                batch[i] = it->second;
                ++reused;
            } else if (const auto seen = first_seen.find(asked[i]); seen != first_seen.end()) {
                batch[i] = all[seen->second];
                batch[i].cached = true;
                batch[i].seconds = 0;
                batch[i].round = round;
                batch[i].slot = static_cast<std::int64_t>(i);
                store.insert(batch[i]);
            } else {
                todo.push_back(i);
            }
        }
        // Repeats within this round wait for their first copy.
        std::vector<std::size_t> unique_todo, repeats;
        for (std::size_t i : todo) {
            const bool dup = std::any_of(unique_todo.begin(), unique_todo.end(), [&](std::size_t j) { return asked[j] == asked[i]; });
            (dup ? repeats : unique_todo).push_back(i);
        }
        // Evaluated on the pool's workers (threads or MPI ranks) in any order; each record is
        // committed the moment it is handed back here. tell() below still gets them in ask order.
        std::vector<distributed::WorkItem> items;
        for (std::size_t i : unique_todo)
            items.push_back({nlohmann::json(asked[i]).dump(), fmt::format("round {} slot {} ({})", round, i, cs.joint.describe(asked[i]))});
        pool->run(items, work, [&](std::size_t k, std::string result) {
            const std::size_t i = unique_todo[k];
            EvaluationRecord r = record_from_json(nlohmann::json::parse(result));
            r.round = round;
            r.slot = static_cast<std::int64_t>(i);
            store.insert(r);
            batch[i] = std::move(r);
        });
        for (std::size_t i : repeats) {
            const auto j = *std::find_if(unique_todo.begin(), unique_todo.end(), [&](std::size_t u) { return asked[u] == asked[i]; });
            batch[i] = batch[j];
            batch[i].cached = true;
            batch[i].seconds = 0;
            batch[i].slot = static_cast<std::int64_t>(i);
            store.insert(batch[i]);
        }
        evaluated_now += static_cast<std::int64_t>(unique_todo.size());

        std::vector<Observation> told;
        for (const auto& r : batch) {
            told.push_back(Observation{r.candidate, r.score, std::vector<double>(r.objectives.begin(), r.objectives.end()), r.ok, r.reason, r.violation,
                                       objective.w_accuracy * r.accuracy_stddev});
            if (!r.cached && first_seen.find(r.candidate) == first_seen.end()) first_seen.emplace(r.candidate, all.size());
            if (r.ok) best_score = std::max(best_score, r.score);
            if (r.ok && !r.cached) {
                ++feasible_so_far;
                if (!first_feasible) first_feasible = static_cast<std::int64_t>(all.size()) + 1;
                add_to_front(front_so_far, r.objectives);
            }
            eval_seconds += r.seconds;
            all.push_back(r);
        }
        convergence.add_row({fmt::format("{}", round), fmt::format("{}", all.size()), fmt::format("{}", feasible_so_far),
                             std::isfinite(best_score) ? fmt::format("{}", best_score) : std::string(),
                             fmt::format("{}", hypervolume(front_so_far, objective.reference))});
        call_plugin(search.name(), "tell", [&] { search->tell(told); });
        {
            const auto done = static_cast<std::int64_t>(all.size());
            const std::int64_t tenth = done * 10 / std::max<std::int64_t>(cs.evaluations, 1);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
            progress.update(fmt::format("round {}, {}/{} evaluations, best score {}, {:.3g} evaluations/s", round + 1, done, cs.evaluations,
                                        std::isfinite(best_score) ? fmt::format("{:.4f}", best_score) : std::string("none feasible yet"),
                                        seconds > 0 ? static_cast<double>(evaluated_now) / seconds : 0.0),
                            static_cast<double>(evaluated_now), static_cast<double>(cs.evaluations - done), tenth != last_tenth);
            last_tenth = tenth;
        }
        if (cs.give_up_after > 0 && !std::isfinite(best_score) && static_cast<std::int64_t>(all.size()) >= cs.give_up_after) {
            progress.finish();
            throw ConfigError(no_feasible_message(ex, all));
        }
    }
    progress.finish();

    // Throughput: this run's distinct evaluations (not the resumed or repeated ones) per second of
    // the search loop's wall time (set-up and the baseline excluded), overall and per rank, and the pool's dispatch overhead per evaluation that
    // crossed ranks (null when none did: threads share memory).
    const distributed::PoolStats pool_stats = pool->stats();
    const double run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_loop).count();
    const double per_second = run_seconds > 0 ? static_cast<double>(evaluated_now) / run_seconds : 0.0;
    const std::size_t remote = pool_stats.remote_items - pool_start.remote_items;
    const double overhead_s = remote > 0 ? (pool_stats.remote_overhead_seconds - pool_start.remote_overhead_seconds) / static_cast<double>(remote) : 0.0;
    nlohmann::json per_rank = nlohmann::json::array();
    for (std::size_t r = 0; r < pool_stats.items_per_rank.size(); ++r)
        per_rank.push_back(pool_stats.items_per_rank[r] - (r < pool_start.items_per_rank.size() ? pool_start.items_per_rank[r] : 0));
    const nlohmann::json throughput{{"ranks", pool_stats.ranks},
                                    {"workers", pool_stats.workers},
                                    {"evaluations", evaluated_now},
                                    {"loop_seconds", run_seconds},
                                    {"evaluations_per_second", per_second},
                                    {"evaluations_per_second_per_rank", per_second / pool_stats.ranks},
                                    {"evaluations_per_rank", per_rank},
                                    {"remote_evaluations", remote},
                                    {"dispatch_overhead_s_per_evaluation", remote > 0 ? nlohmann::json(overhead_s) : nlohmann::json()}};
    spdlog::info("co-design throughput: {} evaluation(s) in {:.3f} s on {} rank(s) x {} worker(s): {:.3g} evaluations/s, {:.3g} per rank{}", evaluated_now,
                 run_seconds, pool_stats.ranks, pool_stats.ranks > 1 ? 1u : pool_stats.workers, per_second, per_second / pool_stats.ranks,
                 remote > 0 ? fmt::format("; dispatch overhead {:.3g} ms per evaluation ({} crossed ranks)", 1e3 * overhead_s, remote) : std::string());

    // Distinct feasible designs: the best, the Pareto set and its hypervolume.
    std::vector<std::size_t> feasible;
    std::int64_t infeasible = 0, cached = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i].cached) {
            ++cached;
            continue;
        }
        if (all[i].ok)
            feasible.push_back(i);
        else
            ++infeasible;
    }
    std::vector<Objectives> points;
    for (std::size_t i : feasible) points.push_back(all[i].objectives);
    std::vector<std::size_t> front;
    for (std::size_t f : pareto_front(points)) front.push_back(feasible[f]);
    std::vector<Objectives> front_points;
    for (std::size_t i : front) front_points.push_back(all[i].objectives);
    const double hv = hypervolume(front_points, objective.reference);
    std::optional<std::size_t> best;
    for (std::size_t i : feasible)
        if (!best || all[i].score > all[*best].score) best = i;

    nlohmann::json cj;
    cj["space"] = {{"model", cs.model.name},
                   {"accelerator", cs.accelerator.name},
                   {"knobs", cs.joint.size()},
                   {"log10_candidates", cs.joint.log10_count()},
                   {"encoding_length", cs.joint.encoded_size()}};
    cj["search"] = {{"plugin", cs.search.info->name}, {"params", to_json(Value{cs.search.params.values()})}, {"batch", cs.batch}, {"budget", cs.evaluations}};
    cj["accuracy"] = {{"plugin", cs.accuracy.info->name}, {"params", to_json(Value{cs.accuracy.params.values()})}};
    cj["objective"] = objective_json;
    cj["evaluations"] = {{"total", all.size()},
                         {"distinct", all.size() - static_cast<std::size_t>(cached)},
                         {"feasible", feasible.size()},
                         {"infeasible", infeasible},
                         {"repeats", cached},
                         {"resumed_from_database", reused},
                         {"evaluation_seconds", eval_seconds},
                         {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count()},
                         {"threads", options.threads},
                         {"first_feasible", first_feasible ? nlohmann::json(*first_feasible) : nlohmann::json()}};
    cj["throughput"] = throughput;
    cj["database"] = store.file().filename().string();
    if (best) cj["best"] = record_json(all[*best]);
    if (baseline) {
        cj["baseline"] = record_json(*baseline);
        if (best) {
            const EvaluationRecord& b = all[*best];
            cj["best_vs_baseline"] = {
                {"accuracy_ratio", b.accuracy / baseline->accuracy},
                {"accuracy_difference", b.accuracy - baseline->accuracy},
                {"latency_reduction", baseline->metrics.latency_s / b.metrics.latency_s},
                {"energy_reduction", baseline->metrics.energy_j / b.metrics.energy_j},
                {"area_reduction", baseline->metrics.area_mm2 / b.metrics.area_mm2},
                {"note", "reductions are baseline / best: 2 means the best pair needs half the baseline's latency, energy or area"}};
        }
    }
    nlohmann::json pareto = nlohmann::json::array();
    for (std::size_t i : front) pareto.push_back(record_json(all[i]));
    double front_acc_min = 1, front_acc_max = 0;
    for (std::size_t i : front) {
        front_acc_min = std::min(front_acc_min, all[i].accuracy);
        front_acc_max = std::max(front_acc_max, all[i].accuracy);
    }
    cj["pareto"] = {{"size", front.size()}, {"hypervolume", hv}, {"set", pareto}};
    if (!front.empty()) cj["pareto"]["accuracy_range"] = {front_acc_min, front_acc_max};
    doc["codesign"] = cj;

    CsvTable pareto_csv = evaluations_table(cs), evaluations_csv = evaluations_table(cs);
    for (std::size_t i : front) add_evaluation_row(pareto_csv, cs, i, all[i]);
    for (std::size_t i = 0; i < all.size(); ++i) add_evaluation_row(evaluations_csv, cs, i, all[i]);
    pareto_csv.write(out / "pareto.csv");
    evaluations_csv.write(out / "evaluations.csv");
    convergence.write(out / "convergence.csv");
    // One row per distinct model with its accuracy: the format accuracy.surrogate reads, so that a
    // run with accuracy.plugin trained makes the table a later surrogate learns from.
    // After model, accuracy and source: the training budget actually used and the measured sparsity
    // per role (empty cells when the estimate carries none, e.g. a surrogate's).
    std::vector<std::string> acc_columns{"model", "accuracy", "source"};
    for (std::string& c : accuracy_csv_extra_header()) acc_columns.push_back(std::move(c));
    CsvTable acc_csv(std::move(acc_columns));
    std::set<std::string> models;
    for (std::size_t i : feasible)
        if (models.insert(all[i].model).second) {
            std::vector<std::string> row{all[i].model, fmt::format("{}", all[i].accuracy), all[i].accuracy_source};
            for (std::string& f : accuracy_csv_extra(all[i])) row.push_back(std::move(f));
            acc_csv.add_row(row);
        }
    acc_csv.write(out / "accuracy.csv");
    if (best) write_best_pair(out, ex, cs, *best, all[*best]);

    if (!options.quiet) {
        fmt::print("\n{} — co-design over {} x {} (10^{:.1f} candidates), search {}, accuracy {}\n", ex.name, cs.model.name, cs.accelerator.name,
                   cs.joint.log10_count(), cs.search.info->name, cs.accuracy.info->name);
        fmt::print("  evaluations: {} ({} distinct, {} feasible, {} infeasible); Pareto set {} designs{}, hypervolume {:.4g}\n", all.size(),
                   all.size() - static_cast<std::size_t>(cached), feasible.size(), infeasible, front.size(),
                   front.empty() ? std::string() : fmt::format(" (accuracy {:.2f}-{:.2f}%)", 100 * front_acc_min, 100 * front_acc_max), hv);
        if (best) {
            const auto& b = all[*best];
            fmt::print("  {:<10} {:>9} {:>12} {:>12} {:>10} {:>8}\n", "", "accuracy", "latency ms", "energy mJ", "area mm2", "score");
            auto row = [](const char* label, const EvaluationRecord& r) {
                fmt::print("  {:<10} {:>8.2f}% {:>12.4f} {:>12.4f} {:>10.2f} {:>8.4f}\n", label, 100 * r.accuracy, 1e3 * r.metrics.latency_s, 1e3 * r.metrics.energy_j,
                           r.metrics.area_mm2, r.score);
            };
            row("best", b);
            if (baseline) {
                row("baseline", *baseline);
                auto ratio = [](double base, double best, const char* less, const char* more) {
                    return base >= best ? fmt::format("{:.2f}x {}", base / best, less) : fmt::format("{:.2f}x {}", best / base, more);
                };
                fmt::print("  best vs baseline: accuracy {:+.2f} points, latency {}, energy {}, area {}\n", 100 * (b.accuracy - baseline->accuracy),
                           ratio(baseline->metrics.latency_s, b.metrics.latency_s, "lower", "higher"),
                           ratio(baseline->metrics.energy_j, b.metrics.energy_j, "lower", "higher"),
                           ratio(baseline->metrics.area_mm2, b.metrics.area_mm2, "smaller", "larger"));
            }
            fmt::print("  best design: {}\n", b.design);
        } else {
            fmt::print("  no feasible candidate was found\n");
        }
    }
}

}  // namespace transcode::engine
