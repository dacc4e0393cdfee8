#include "sweep/sweep_store.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <limits>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include "transcode/input_file.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

using StatementPtr = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

StatementPtr prepare(sqlite3* db, const char* sql, const fs::path& file) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
        sqlite3_finalize(s);
        throw ConfigError(fmt::format("{}: cannot resume: the database is damaged: {}", file.string(), sqlite3_errmsg(db)));
    }
    return StatementPtr(s, sqlite3_finalize);
}

std::string column_text(sqlite3_stmt* s, int i) {
    const unsigned char* t = sqlite3_column_text(s, i);
    return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

void SweepStore::exec(const std::string& sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string m = message != nullptr ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        throw Error(fmt::format("{}: {}", file_.string(), m));
    }
}

SweepStore::SweepStore(const fs::path& file, bool resume, const std::map<std::string, std::string>& meta) : file_(file) {
    std::error_code ec;
    const bool exists = fs::exists(file, ec);
    if (exists && !resume)
        throw ConfigError(fmt::format("{}: a sweep database is already here; add --resume to carry that sweep on, or choose another --out folder",
                                      file.string()));
    if (!exists && resume) throw ConfigError(fmt::format("{}: --resume needs the database of an earlier run, and there is none here", file.string()));
    if (const std::string problem = input_file_problem(file, std::numeric_limits<std::uintmax_t>::max()); exists && !problem.empty())
        throw ConfigError(fmt::format("{}: the sweep database {}", file.string(), problem));
    if (sqlite3_open(file.string().c_str(), &db_) != SQLITE_OK) {
        const std::string m = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(fmt::format("{}: cannot open the sweep database: {}", file.string(), m));
    }
    try {
        sqlite3_busy_timeout(db_, 5000);
        if (const char* n = std::getenv("TRANSCODE_CRASH_AFTER_COMMITS")) crash_after_ = std::strtol(n, nullptr, 10);
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        // Tables and meta in one transaction: a database is either without meta (killed while being
        // made: --resume starts afresh) or complete.
        exec("BEGIN IMMEDIATE");
        exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
             "CREATE TABLE IF NOT EXISTS points(point INTEGER PRIMARY KEY, axis_values TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,"
             " figures TEXT NOT NULL, seconds REAL NOT NULL, folder TEXT NOT NULL, finished_at TEXT NOT NULL);");
        std::map<std::string, std::string> stored;
        if (resume) {
            const StatementPtr s = prepare(db_, "SELECT key, value FROM meta", file_);
            while (sqlite3_step(s.get()) == SQLITE_ROW) stored[column_text(s.get(), 0)] = column_text(s.get(), 1);
        }
        if (resume && !stored.empty()) {
            for (const auto& [key, value] : meta) {
                const auto it = stored.find(key);
                if (it == stored.end() || it->second != value)
                    throw ConfigError(fmt::format("{}: cannot resume: the database was made with {} '{}', this experiment has '{}'", file.string(), key,
                                                  it == stored.end() ? "(none)" : it->second, value));
            }
        } else {
            exec("DELETE FROM points; DELETE FROM meta;");
            const StatementPtr s = prepare(db_, "INSERT INTO meta(key, value) VALUES (?, ?)", file_);
            for (const auto& [key, value] : meta) {
                sqlite3_reset(s.get());
                sqlite3_bind_text(s.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(s.get(), 2, value.c_str(), -1, SQLITE_TRANSIENT);
                if (sqlite3_step(s.get()) != SQLITE_DONE) throw Error(fmt::format("{}: {}", file_.string(), sqlite3_errmsg(db_)));
            }
        }
        exec("COMMIT");
    } catch (const ConfigError&) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    } catch (const Error& e) {
        sqlite3_close(db_);
        db_ = nullptr;
        if (!resume) throw;
        const std::string what = e.what(), head = file.string() + ": ";
        throw ConfigError(fmt::format("{}: cannot resume: the database is damaged: {}", file.string(), what.rfind(head, 0) == 0 ? what.substr(head.size()) : what));
    }
}

SweepStore::~SweepStore() { sqlite3_close(db_); }

void SweepStore::insert(const SweepPointRecord& r) {
    std::lock_guard lock(mutex_);
    const StatementPtr s = prepare(db_,
                                   "INSERT OR REPLACE INTO points(point, axis_values, status, reason, figures, seconds, folder, finished_at)"
                                   " VALUES (?,?,?,?,?,?,?,?)",
                                   file_);
    sqlite3_stmt* st = s.get();
    int i = 0;
    auto text = [&](const std::string& t) { sqlite3_bind_text(st, ++i, t.c_str(), -1, SQLITE_TRANSIENT); };
    sqlite3_bind_int64(st, ++i, static_cast<sqlite3_int64>(r.index));
    text(nlohmann::json(r.values).dump());
    text(to_string(r.status));
    text(r.reason);
    text(r.figures.dump());
    sqlite3_bind_double(st, ++i, r.seconds);
    text(r.folder);
    text(fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()))));
    if (sqlite3_step(st) != SQLITE_DONE) throw Error(fmt::format("{}: cannot store a sweep point: {}", file_.string(), sqlite3_errmsg(db_)));
    if (crash_after_ > 0 && ++commits_ == crash_after_) std::raise(SIGKILL);
}

std::map<std::size_t, SweepPointRecord> SweepStore::load() const {
    std::lock_guard lock(mutex_);
    const StatementPtr s = prepare(db_, "SELECT point, axis_values, status, reason, figures, seconds, folder FROM points ORDER BY point", file_);
    std::map<std::size_t, SweepPointRecord> out;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        sqlite3_stmt* st = s.get();
        const sqlite3_int64 point = sqlite3_column_int64(st, 0);
        try {
            if (point < 0) throw ConfigError("a negative point index");
            nlohmann::json j{{"index", static_cast<std::size_t>(point)},
                             {"values", nlohmann::json::parse(column_text(st, 1))},
                             {"status", column_text(st, 2)},
                             {"reason", column_text(st, 3)},
                             {"figures", nlohmann::json::parse(column_text(st, 4))},
                             {"seconds", sqlite3_column_double(st, 5)},
                             {"folder", column_text(st, 6)}};
            out.emplace(static_cast<std::size_t>(point), sweep_point_record_from_json(j));
        } catch (const std::exception& e) {
            throw ConfigError(fmt::format("{}: point {} is damaged: {}", file_.string(), point, e.what()));
        }
    }
    if (rc != SQLITE_DONE) throw ConfigError(fmt::format("{}: cannot resume: the database is damaged: {}", file_.string(), sqlite3_errmsg(db_)));
    return out;
}

}  // namespace transcode::engine
