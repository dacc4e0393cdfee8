// The result store of a co-design run: a SQLite database (search.db in the output folder) with one
// row per evaluation, committed the moment the evaluation finishes, so that a crash loses nothing
// that finished. `transcode run --resume` reads the rows back and replays them into the search.
//
// Tables (read them with the sqlite3 command line: sqlite3 out/NAME/search.db 'select ...'):
//   meta(key TEXT PRIMARY KEY, value TEXT)            experiment, seed, space signature, plugin
//   evaluations(id, round, slot, candidate, encoding, design, model, accelerator, status, reason,
//               cached, accuracy, accuracy_source, latency_s, energy_j, dynamic_j, leakage_j,
//               area_mm2, cycles, score, obj_accuracy_loss, obj_latency, obj_energy, obj_area,
//               seconds, finished_at, accuracy_details) UNIQUE(round, slot)
// accuracy_details is a JSON object: "sparsity" (the estimate's per role), "training" (the engine's
// training behind a trained accuracy: steps, examples, sequence_length, batch_size, epochs,
// validation_examples, seconds, task, validation_accuracy, sparsity per role); {} when none. A
// database from before the column gains it on --resume. candidate and encoding are JSON arrays; status is "ok" or "infeasible"; units are in the names.
//
// Crash testing: with TRANSCODE_CRASH_AFTER_COMMITS=N in the environment, the process kills itself
// with SIGKILL right after its N-th commit (the tests use it to kill a search mid-way at a
// reproducible point).
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "codesign/evaluator.hpp"

struct sqlite3;

namespace transcode::engine {

/// The record's accuracy_details column (see above), and back (a missing key leaves the field).
nlohmann::json accuracy_details_json(const EvaluationRecord& r);
void read_accuracy_details(const nlohmann::json& j, EvaluationRecord& r);

/// Every row of a search database's evaluations table, by (round, slot), read-only: one JSON object
/// per row, keyed by column name (ints, reals, text; the JSON columns candidate, encoding and
/// accuracy_details parsed; SQL NULL as null). For callers that hand the rows on as data (the
/// Python module's read_store). Throws ConfigError when the file is missing or not a search database.
nlohmann::json read_evaluations(const std::filesystem::path& file);

class ResultStore {
public:
    /// Opens (resume) or creates (fresh: an existing database is an error that says to use
    /// --resume or another output folder) the database. `meta` is checked against a resumed
    /// database's: a mismatch (another experiment, seed or space) is a ConfigError naming the key.
    ResultStore(const std::filesystem::path& file, bool resume, const std::map<std::string, std::string>& meta);
    ~ResultStore();
    ResultStore(const ResultStore&) = delete;
    ResultStore& operator=(const ResultStore&) = delete;

    /// Every stored evaluation, by (round, slot).
    std::map<std::pair<std::int64_t, std::int64_t>, EvaluationRecord> load() const;
    /// Inserts one evaluation and commits it. Safe from several threads.
    void insert(const EvaluationRecord& r);

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
