#include "sweep/sweep_run.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/output_folder.hpp"
#include "common/progress.hpp"
#include "sweep/sweep_store.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

std::string cell(const nlohmann::json& v) {
    if (v.is_number_integer()) return fmt::format("{}", v.get<std::int64_t>());
    if (v.is_number_unsigned()) return fmt::format("{}", v.get<std::uint64_t>());
    if (v.is_number_float()) return fmt::format("{}", v.get<double>());  // shortest text that reads back to the same double
    if (v.is_string()) return v.get<std::string>();
    return v.is_null() ? std::string() : v.dump();
}

// "path=value, ..." of point `i`: how an error names the point.
std::string point_values(const SweepPlan& plan, std::size_t i) {
    const std::vector<std::string> texts = plan.value_texts(i);
    std::string out;
    for (std::size_t a = 0; a < plan.axes.size(); ++a) out += fmt::format("{}{}={}", a == 0 ? "" : ", ", plan.axes[a].path, texts[a]);
    return out;
}

}  // namespace

CsvTable sweep_table(const SweepPlan& plan, const std::vector<SweepPointRecord>& records) {
    std::vector<std::string> columns{"point", "status"};
    for (const auto& a : plan.axes) columns.push_back(a.path);
    const std::vector<std::string> figures = sweep_figure_columns(plan.of);
    columns.insert(columns.end(), figures.begin(), figures.end());
    columns.emplace_back("seconds_s");
    columns.emplace_back("reason");
    CsvTable table(columns);
    for (const auto& r : records) {
        std::vector<std::string> row{fmt::format("{}", r.index), to_string(r.status)};
        row.insert(row.end(), r.values.begin(), r.values.end());
        for (const auto& f : figures) row.push_back(r.figures.contains(f) ? cell(r.figures.at(f)) : std::string());
        row.push_back(fmt::format("{:.3f}", r.seconds));
        row.push_back(r.reason);
        table.add_row(row);
    }
    return table;
}

distributed::WorkFunction sweep_point_work(const SweepPlan& plan, PluginHost& host) {
    return [&plan, &host](const std::string& payload) {
        const nlohmann::json item = nlohmann::json::parse(payload);
        const auto index = item.at("point").get<std::size_t>();
        if (index >= plan.points()) throw InternalError(fmt::format("sweep point {} is past the sweep's {} point(s)", index, plan.points()));
        return to_json(run_sweep_point(plan, index, fs::path(item.at("folder").get<std::string>()), host)).dump();
    };
}

void run_sweep(const SweepPlan& plan, PluginHost& host, const fs::path& out, const SweepRunOptions& options, nlohmann::json& doc) {
    const std::size_t n = plan.points();
    const std::map<std::string, std::string> meta{
        {"experiment", plan.name}, {"of", plan.of}, {"points", fmt::format("{}", n)}, {"signature", plan.signature()}};
    SweepStore store(out / "sweep.db", options.resume, meta);
    remove_stale_results(out);  // the folder is this run's now (common/output_folder.hpp)

    // (a) The stored points are skipped.
    std::vector<std::optional<SweepPointRecord>> records(n);
    std::size_t resumed = 0;
    for (auto& [index, r] : store.load()) {
        if (index >= n || r.values != plan.value_texts(index))
            throw ConfigError(fmt::format("{}: cannot resume: stored point {} holds other axis values than this sweep's point {}", store.file().string(),
                                          index, index));
        records[index] = std::move(r);
        ++resumed;
    }
    if (options.resume) spdlog::info("resuming: {} of {} point(s) stored in {}", resumed, n, store.file().string());
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < n; ++i)
        if (!records[i]) todo.push_back(i);

    // (b) The others run on the pool's workers (threads or MPI ranks) in any order; (c) each is
    // stored the moment it comes back, on this thread.
    std::optional<distributed::LocalPool> local_pool;
    distributed::WorkPool* pool = options.pool;
    if (pool == nullptr) pool = &local_pool.emplace(std::max(1u, options.threads));
    const distributed::PoolStats pool_start = pool->stats();
    const fs::path folder = fs::absolute(out);
    std::vector<distributed::WorkItem> items;
    for (std::size_t i : todo)
        items.push_back({nlohmann::json{{"point", i}, {"folder", (folder / sweep_point_folder(i)).string()}}.dump(),
                         fmt::format("sweep point {} ({})", i, point_values(plan, i))});
    ProgressReporter progress(options.quiet, fmt::format("[sweep {}] ", plan.name));
    std::size_t finished = 0, failed = 0;
    const auto t_start = std::chrono::steady_clock::now();
    pool->run(items, sweep_point_work(plan, host), [&](std::size_t, std::string result) {
        SweepPointRecord r = sweep_point_record_from_json(nlohmann::json::parse(result));
        store.insert(r);
        ++finished;
        if (r.status == SweepPointStatus::failed) {
            ++failed;
            spdlog::warn("sweep point {} failed: {}", r.index, r.reason);
        }
        const std::size_t i = r.index;
        records[i] = std::move(r);
        const std::size_t tenth = std::max<std::size_t>(1, todo.size() / 10);
        progress.update(fmt::format("point {}/{} ({} failed)", resumed + finished, n, failed), static_cast<double>(finished),
                        static_cast<double>(todo.size() - finished), finished % tenth == 0 || finished == todo.size());
    });
    progress.finish();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    const distributed::PoolStats stats = pool->stats();
    const std::size_t remote = stats.remote_items - pool_start.remote_items;
    nlohmann::json per_rank = nlohmann::json::array();
    for (std::size_t r = 0; r < stats.items_per_rank.size(); ++r)
        per_rank.push_back(stats.items_per_rank[r] - (r < pool_start.items_per_rank.size() ? pool_start.items_per_rank[r] : 0));
    const double per_second = wall > 0 ? static_cast<double>(todo.size()) / wall : 0.0;
    const nlohmann::json throughput{
        {"ranks", stats.ranks},
        {"workers", stats.workers},
        {"points", todo.size()},
        {"loop_seconds", wall},
        {"points_per_second", per_second},
        {"points_per_second_per_rank", per_second / stats.ranks},
        {"points_per_rank", per_rank},
        {"remote_points", remote},
        {"dispatch_overhead_s_per_point", remote > 0 ? (stats.remote_overhead_seconds - pool_start.remote_overhead_seconds) / static_cast<double>(remote) : 0.0}};

    // (d) sweep.csv in point order, and results.json's sweep section.
    std::vector<SweepPointRecord> all;
    for (auto& r : records) all.push_back(std::move(*r));
    sweep_table(plan, all).write(out / "sweep.csv");
    nlohmann::json axes = nlohmann::json::array();
    for (const auto& a : plan.axes) axes.push_back({{"path", a.path}, {"values", a.texts}});
    nlohmann::json points = nlohmann::json::array();
    std::map<std::string, std::size_t> by_status{{"ok", 0}, {"infeasible", 0}, {"failed", 0}};
    for (const auto& r : all) {
        nlohmann::json values = nlohmann::json::object();
        for (std::size_t a = 0; a < plan.axes.size(); ++a) values[plan.axes[a].path] = r.values[a];
        nlohmann::json p{{"point", r.index}, {"status", to_string(r.status)}, {"values", values}, {"figures", r.figures}, {"seconds", r.seconds},
                         {"folder", r.folder}};
        if (!r.reason.empty()) p["reason"] = r.reason;
        points.push_back(std::move(p));
        ++by_status[to_string(r.status)];
    }
    doc["sweep"] = {{"of", plan.of},
                    {"combine", plan.combine == SweepCombine::zip ? "zip" : "product"},
                    {"axes", axes},
                    {"points", n},
                    {"ok", by_status["ok"]},
                    {"infeasible", by_status["infeasible"]},
                    {"failed", by_status["failed"]},
                    {"resumed_from_database", resumed},
                    {"threads", std::max(1u, options.threads)},
                    {"wall_seconds", wall},
                    {"throughput", throughput},
                    {"csv", "sweep.csv"},
                    {"rows", points}};
    if (!options.quiet) {
        fmt::print("\n{} — sweep of {} {} point(s) ({} ok, {} infeasible, {} failed; {} resumed from sweep.db)\n", plan.name, n, plan.of, by_status["ok"],
                   by_status["infeasible"], by_status["failed"], resumed);
        fmt::print("  table: {}\n", (out / "sweep.csv").string());
    }
}

}  // namespace transcode::engine
