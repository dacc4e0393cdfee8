// The store of a sweep: a SQLite database (sweep.db in the output folder) with one row per
// finished point, committed the moment the point finishes, so that a run killed at any moment
// loses only the points still running. `transcode run --resume` skips the stored points.
//
// Tables (sqlite3 out/NAME/sweep.db 'select ...'):
//   meta(key TEXT PRIMARY KEY, value TEXT)   experiment, of, points, signature
//   points(point INTEGER PRIMARY KEY, axis_values TEXT, status TEXT, reason TEXT, figures TEXT,
//          seconds REAL, folder TEXT, finished_at TEXT)
// axis_values is a JSON list of the axis values as text (in axis order), figures a JSON object of
// the point's sweep.csv figures (column -> number); status is ok, infeasible or failed.
//
// Crash testing: with TRANSCODE_CRASH_AFTER_COMMITS=N in the environment the process kills itself
// with SIGKILL right after its N-th stored point (as the co-design store does).
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "sweep/sweep_point.hpp"

struct sqlite3;

namespace transcode::engine {

class SweepStore {
public:
    /// Opens (resume) or creates (fresh: an existing database is an error that says to use
    /// --resume or another output folder) the database. A resumed database's meta must equal
    /// `meta`, else ConfigError `FILE: cannot resume: the database was made with KEY 'A', this
    /// experiment has 'B'`. A damaged database is a ConfigError too.
    SweepStore(const std::filesystem::path& file, bool resume, const std::map<std::string, std::string>& meta);
    ~SweepStore();
    SweepStore(const SweepStore&) = delete;
    SweepStore& operator=(const SweepStore&) = delete;

    /// Every stored point, by index.
    std::map<std::size_t, SweepPointRecord> load() const;
    /// Stores one point and commits it. Safe from several threads.
    void insert(const SweepPointRecord& r);

    const std::filesystem::path& file() const { return file_; }

private:
    void exec(const std::string& sql) const;

    std::filesystem::path file_;
    sqlite3* db_ = nullptr;
    mutable std::mutex mutex_;
    long crash_after_ = 0;
    long commits_ = 0;
};

}  // namespace transcode::engine
