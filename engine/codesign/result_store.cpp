#include "codesign/result_store.hpp"

#include <limits>

#include "transcode/input_file.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <csignal>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

// A prepared statement that finalises itself.
class Statement {
public:
    Statement(sqlite3* db, const char* sql, const fs::path& file) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK)
            throw Error(fmt::format("{}: {} (while preparing: {})", file.string(), sqlite3_errmsg(db), sql));
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    sqlite3_stmt* get() const { return stmt_; }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

std::string column_text(sqlite3_stmt* s, int i) {
    const unsigned char* t = sqlite3_column_text(s, i);
    return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

nlohmann::json read_evaluations(const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw ConfigError(fmt::format("{}: no search database here (a codesign run writes search.db in its output folder)", file.string()));
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file.string().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        const std::string m = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw ConfigError(fmt::format("{}: cannot open the search database: {}", file.string(), m));
    }
    const std::unique_ptr<sqlite3, int (*)(sqlite3*)> owner(db, sqlite3_close);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT * FROM evaluations ORDER BY round, slot", -1, &raw, nullptr) != SQLITE_OK) {
        const std::string m = sqlite3_errmsg(db);
        sqlite3_finalize(raw);
        throw ConfigError(fmt::format("{}: not a search database ({})", file.string(), m));
    }
    const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    const int columns = sqlite3_column_count(raw);
    nlohmann::json rows = nlohmann::json::array();
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
        nlohmann::json row = nlohmann::json::object();
        for (int i = 0; i < columns; ++i) {
            const std::string name = sqlite3_column_name(raw, i);
            switch (sqlite3_column_type(raw, i)) {
                case SQLITE_INTEGER: row[name] = sqlite3_column_int64(raw, i); break;
                case SQLITE_FLOAT: row[name] = sqlite3_column_double(raw, i); break;
                case SQLITE_NULL: row[name] = nullptr; break;
                default: {
                    const std::string text = column_text(raw, i);
                    const bool json_column = name == "candidate" || name == "encoding" || name == "accuracy_details";
                    nlohmann::json parsed = json_column ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json(text);
                    row[name] = parsed.is_discarded() ? nlohmann::json(text) : std::move(parsed);
                }
            }
        }
        rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) throw Error(fmt::format("{}: reading the evaluations: {}", file.string(), sqlite3_errmsg(db)));
    return rows;
}

nlohmann::json accuracy_details_json(const EvaluationRecord& r) {
    nlohmann::json j = nlohmann::json::object();
    if (!r.accuracy_sparsity.empty()) j["sparsity"] = r.accuracy_sparsity;
    if (r.training) {
        const TrainingOutcome& t = *r.training;
        j["training"] = {{"steps", t.steps},
                         {"examples", t.examples},
                         {"sequence_length", t.sequence_length},
                         {"batch_size", t.batch_size},
                         {"epochs", t.epochs},
                         {"validation_examples", t.validation_examples},
                         {"seconds", t.seconds},
                         {"task", t.task},
                         {"validation_accuracy", t.validation_accuracy},
                         {"sparsity", t.sparsity}};
    }
    return j;
}

void read_accuracy_details(const nlohmann::json& j, EvaluationRecord& r) {
    if (!j.is_object()) return;
    if (const auto s = j.find("sparsity"); s != j.end()) r.accuracy_sparsity = s->get<std::map<std::string, double>>();
    if (const auto t = j.find("training"); t != j.end()) {
        TrainingOutcome o;
        o.steps = t->at("steps").get<std::int64_t>();
        o.examples = t->at("examples").get<std::int64_t>();
        o.sequence_length = t->at("sequence_length").get<std::int64_t>();
        o.batch_size = t->at("batch_size").get<std::int64_t>();
        o.epochs = t->at("epochs").get<std::int64_t>();
        o.validation_examples = t->at("validation_examples").get<std::int64_t>();
        o.seconds = t->at("seconds").get<double>();
        o.task = t->at("task").get<std::string>();
        o.validation_accuracy = t->at("validation_accuracy").get<double>();
        o.sparsity = t->at("sparsity").get<std::map<std::string, double>>();
        r.training = std::move(o);
    }
}

void ResultStore::exec(const std::string& sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        const std::string m = message != nullptr ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        throw Error(fmt::format("{}: {}", file_.string(), m));
    }
}

ResultStore::ResultStore(const fs::path& file, bool resume, const std::map<std::string, std::string>& meta) : file_(file) {
    std::error_code ec;
    const bool exists = fs::exists(file, ec);
    if (exists && !resume)
        throw ConfigError(fmt::format("{}: a search database is already here; add --resume to carry that search on, or choose another --out folder",
                                      file.string()));
    if (!exists && resume) throw ConfigError(fmt::format("{}: --resume needs the database of an earlier run, and there is none here", file.string()));
    // SQLite would block on a FIFO, or read a device without end: a database is a regular file.
    if (const std::string problem = input_file_problem(file, std::numeric_limits<std::uintmax_t>::max()); exists && !problem.empty())
        throw ConfigError(fmt::format("{}: the search database {}", file.string(), problem));
    if (sqlite3_open(file.string().c_str(), &db_) != SQLITE_OK) {
        const std::string m = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error(fmt::format("{}: cannot open the search database: {}", file.string(), m));
    }
    // A constructor that throws runs no destructor: close the database here on every error.
    const bool resuming = resume;
    try {
        sqlite3_busy_timeout(db_, 5000);
        if (const char* n = std::getenv("TRANSCODE_CRASH_AFTER_COMMITS")) crash_after_ = std::strtol(n, nullptr, 10);
        // WAL: each commit is one append, and a killed process leaves every committed row readable.
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        // The tables and the meta rows are made in one transaction: a process killed while creating the
        // database leaves either none of them or all (never a database whose meta is half written, which
        // --resume could not tell from another experiment's).
        exec("BEGIN IMMEDIATE");
        exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
             "CREATE TABLE IF NOT EXISTS evaluations("
             " id INTEGER PRIMARY KEY, round INTEGER NOT NULL, slot INTEGER NOT NULL,"
             " candidate TEXT NOT NULL, encoding TEXT NOT NULL, design TEXT NOT NULL, model TEXT, accelerator TEXT,"
             " status TEXT NOT NULL, reason TEXT, cached INTEGER NOT NULL,"
             " accuracy REAL, accuracy_source TEXT, latency_s REAL, energy_j REAL, dynamic_j REAL, leakage_j REAL, area_mm2 REAL, cycles INTEGER,"
             " score REAL NOT NULL, obj_accuracy_loss REAL, obj_latency REAL, obj_energy REAL, obj_area REAL,"
             " seconds REAL, finished_at TEXT, violation REAL NOT NULL DEFAULT 0, accuracy_stddev REAL NOT NULL DEFAULT 0, accuracy_details TEXT, UNIQUE(round, slot));");
        // A database made before accuracy_details existed gains the column (its rows read as "{}").
        {
            Statement s(db_, "SELECT COUNT(*) FROM pragma_table_info('evaluations') WHERE name = 'accuracy_details'", file_);
            if (sqlite3_step(s.get()) == SQLITE_ROW && sqlite3_column_int64(s.get(), 0) == 0) exec("ALTER TABLE evaluations ADD COLUMN accuracy_details TEXT");
        }
        std::map<std::string, std::string> stored;
        if (resume) {
            Statement s(db_, "SELECT key, value FROM meta", file_);
            int rc = SQLITE_ROW;
            while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) stored[column_text(s.get(), 0)] = column_text(s.get(), 1);
            if (rc != SQLITE_DONE) throw ConfigError(fmt::format("{}: cannot resume: the database is damaged: {}", file.string(), sqlite3_errmsg(db_)));
        }
        // A database without meta rows and without evaluations was killed before its first commit (or
        // is empty): --resume starts it afresh.
        if (resume && stored.empty()) {
            Statement s(db_, "SELECT COUNT(*) FROM evaluations", file_);
            resume = !(sqlite3_step(s.get()) == SQLITE_ROW && sqlite3_column_int64(s.get(), 0) == 0);
        }
        if (resume) {
            for (const auto& [key, value] : meta) {
                const auto it = stored.find(key);
                if (it == stored.end() || it->second != value)
                    throw ConfigError(fmt::format("{}: cannot resume: the database was made with {} '{}', this experiment has '{}'", file.string(), key,
                                                  it == stored.end() ? "(none)" : it->second, value));
            }
        } else {
            Statement s(db_, "INSERT INTO meta(key, value) VALUES (?, ?)", file_);
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
        if (!resuming) throw;
        // SQLite's refusal of a damaged file ("file is not a database", "database disk image is
        // malformed", a missing column): bad input, not an engine failure.
        const std::string what = e.what(), head = file.string() + ": ";
        throw ConfigError(fmt::format("{}: cannot resume: the database is damaged: {}", file.string(), what.rfind(head, 0) == 0 ? what.substr(head.size()) : what));
    } catch (...) {
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

ResultStore::~ResultStore() { sqlite3_close(db_); }

void ResultStore::insert(const EvaluationRecord& r) {
    std::lock_guard lock(mutex_);
    Statement s(db_,
                "INSERT INTO evaluations(round, slot, candidate, encoding, design, model, accelerator, status, reason, cached, accuracy, accuracy_source,"
                " latency_s, energy_j, dynamic_j, leakage_j, area_mm2, cycles, score, obj_accuracy_loss, obj_latency, obj_energy, obj_area, seconds,"
                " finished_at, violation, accuracy_stddev, accuracy_details) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                file_);
    sqlite3_stmt* st = s.get();
    int i = 0;
    auto text = [&](const std::string& t) { sqlite3_bind_text(st, ++i, t.c_str(), -1, SQLITE_TRANSIENT); };
    auto real = [&](double v) { sqlite3_bind_double(st, ++i, v); };
    auto integer = [&](std::int64_t v) { sqlite3_bind_int64(st, ++i, v); };
    integer(r.round);
    integer(r.slot);
    text(nlohmann::json(r.candidate).dump());
    text(nlohmann::json(r.encoding).dump());
    text(r.design);
    text(r.model);
    text(r.accelerator);
    text(r.ok ? "ok" : "infeasible");
    text(r.reason);
    integer(r.cached ? 1 : 0);
    real(r.accuracy);
    text(r.accuracy_source);
    real(r.metrics.latency_s);
    real(r.metrics.energy_j);
    real(r.dynamic_j);
    real(r.leakage_j);
    real(r.metrics.area_mm2);
    integer(r.cycles);
    real(r.score);
    for (double o : r.objectives) real(o);
    real(r.seconds);
    text(fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()))));
    real(r.violation);
    real(r.accuracy_stddev);
    text(accuracy_details_json(r).dump());
    if (sqlite3_step(st) != SQLITE_DONE) throw Error(fmt::format("{}: cannot store an evaluation: {}", file_.string(), sqlite3_errmsg(db_)));
    if (crash_after_ > 0 && ++commits_ == crash_after_) std::raise(SIGKILL);
}

std::map<std::pair<std::int64_t, std::int64_t>, EvaluationRecord> ResultStore::load() const {
    std::lock_guard lock(mutex_);
    std::optional<Statement> select;
    try {
        select.emplace(db_,
                       "SELECT round, slot, candidate, encoding, design, model, accelerator, status, reason, cached, accuracy, accuracy_source, latency_s,"
                       " energy_j, dynamic_j, leakage_j, area_mm2, cycles, score, obj_accuracy_loss, obj_latency, obj_energy, obj_area, seconds,"
                       " violation, accuracy_stddev, accuracy_details FROM evaluations",
                       file_);
    } catch (const Error&) {  // a table or column missing
        throw ConfigError(fmt::format("{}: cannot resume: the database is damaged: {}", file_.string(), sqlite3_errmsg(db_)));
    }
    const Statement& s = *select;
    std::map<std::pair<std::int64_t, std::int64_t>, EvaluationRecord> out;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        sqlite3_stmt* st = s.get();
        EvaluationRecord r;
        int i = 0;
        r.round = sqlite3_column_int64(st, i++);
        r.slot = sqlite3_column_int64(st, i++);
        try {
            // Checked before get<>(): a float or negative number converted to an index is undefined.
            const nlohmann::json candidate = nlohmann::json::parse(column_text(st, i++));
            const nlohmann::json encoding = nlohmann::json::parse(column_text(st, i++));
            if (!candidate.is_array() || !std::all_of(candidate.begin(), candidate.end(), [](const auto& x) { return x.is_number_unsigned(); }))
                throw ConfigError(fmt::format("{}: evaluation round {} slot {} is damaged: the candidate is not a list of knob indices", file_.string(), r.round,
                                              r.slot));
            r.candidate = candidate.get<Candidate>();
            r.encoding = encoding.get<std::vector<double>>();
        } catch (const nlohmann::json::exception& e) {
            throw ConfigError(fmt::format("{}: evaluation round {} slot {} is damaged: {}", file_.string(), r.round, r.slot, e.what()));
        }
        r.design = column_text(st, i++);
        r.model = column_text(st, i++);
        r.accelerator = column_text(st, i++);
        r.ok = column_text(st, i++) == "ok";
        r.reason = column_text(st, i++);
        r.cached = sqlite3_column_int64(st, i++) != 0;
        r.accuracy = sqlite3_column_double(st, i++);
        r.accuracy_source = column_text(st, i++);
        r.metrics.accuracy = r.accuracy;
        r.metrics.latency_s = sqlite3_column_double(st, i++);
        r.metrics.energy_j = sqlite3_column_double(st, i++);
        r.dynamic_j = sqlite3_column_double(st, i++);
        r.leakage_j = sqlite3_column_double(st, i++);
        r.metrics.area_mm2 = sqlite3_column_double(st, i++);
        r.cycles = sqlite3_column_int64(st, i++);
        r.score = sqlite3_column_double(st, i++);
        for (double& o : r.objectives) o = sqlite3_column_double(st, i++);
        r.seconds = sqlite3_column_double(st, i++);
        r.violation = sqlite3_column_double(st, i++);
        r.accuracy_stddev = sqlite3_column_double(st, i++);
        try {
            const std::string details = column_text(st, i++);
            if (!details.empty()) read_accuracy_details(nlohmann::json::parse(details), r);
        } catch (const nlohmann::json::exception& e) {
            throw ConfigError(fmt::format("{}: evaluation round {} slot {} is damaged (accuracy_details): {}", file_.string(), r.round, r.slot, e.what()));
        }
        out.emplace(std::make_pair(r.round, r.slot), std::move(r));
    }
    // A damaged page ends the scan early: an error, never a resume that silently lacks rows.
    if (rc != SQLITE_DONE) throw ConfigError(fmt::format("{}: cannot resume: the database is damaged: {}", file_.string(), sqlite3_errmsg(db_)));
    return out;
}

}  // namespace transcode::engine
