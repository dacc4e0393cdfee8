// fuzz_search_db: bytes -> a damaged search.db -> what `transcode run --resume` does with it before
// evaluating anything: open the store with the experiment's meta (engine::ResultStore, resume),
// read every row back (ResultStore::load), and replay the rows round by round into the experiment's
// search (start, ask, compare the stored candidate, tell).
//
// The experiment is tests/fixtures/codesign/small-joint.yaml with 8 evaluations (search.random,
// batch 4); seeds/fuzz_search_db/whole-file-small-joint-8 is the byte '0' and then the database of
// that run (8 rows, 512-byte pages, journal mode DELETE). The first byte of the input picks how the
// rest damages it:
//   even: the rest is the whole database file (libFuzzer mutates the seed's bytes);
//   odd:  the rest is SQL run on a copy of the seed database before it is opened (rows changed,
//         deleted or added, columns dropped, tables replaced; see seeds/fuzz_search_db/*.sql).
// A resume must end in a clear error (ConfigError, or the store's Error naming the database file) or
// in a replay: anything else (a crash, a sanitizer report, another exception) is a finding. A
// replayed row's candidate must be a candidate of the space (ask() checks it in the real run).
#include <sqlite3.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "codesign/result_store.hpp"
#include "experiment/experiment.hpp"
#include "fuzz_support.hpp"

using namespace transcode;
using namespace transcode::engine;
namespace fs = std::filesystem;

namespace {

const fs::path seed_file = fs::path(TRANSCODE_FUZZ_SEEDS_DIR) / "fuzz_search_db" / "whole-file-small-joint-8";

const Experiment& experiment() {
    static const Experiment ex = load_experiment(fs::path(TRANSCODE_FUZZ_BASE_DIR) / ".." / ".." / "tests/fixtures/codesign/small-joint.yaml",
                                                 {"search.evaluations=8"}, fuzz::host());
    return ex;
}

std::string read_bytes(const fs::path& f) {
    std::ifstream in(f, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& f, const char* data, std::size_t size) {
    std::ofstream out(f, std::ios::binary | std::ios::trunc);
    out.write(data, static_cast<std::streamsize>(size));
}

// The seed database's bytes (the seed file without its first byte).
const std::string& seed_db() {
    static const std::string bytes = [] {
        const std::string all = read_bytes(seed_file);
        if (all.size() < 2) fuzz::fail("no seed database in " + seed_file.string());
        return all.substr(1);
    }();
    return bytes;
}

// The meta table of the seed database: what run_codesign computes for this experiment.
const std::map<std::string, std::string>& meta() {
    static const std::map<std::string, std::string> m = [] {
        std::map<std::string, std::string> out;
        const fs::path copy = fuzz::scratch_file("fuzz_search_db", "search.db");
        write_bytes(copy, seed_db().data(), seed_db().size());
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(copy.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) fuzz::fail("cannot open the seed database " + seed_file.string());
        sqlite3_stmt* s = nullptr;
        sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &s, nullptr);
        while (sqlite3_step(s) == SQLITE_ROW)
            out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
        sqlite3_finalize(s);
        sqlite3_close(db);
        if (out.size() < 5) fuzz::fail("the seed database has no meta table: " + seed_file.string());
        return out;
    }();
    return m;
}

// Replays the stored rows into the search as run_codesign does, until a row is missing (where the
// real run would start evaluating). A stored candidate other than the one asked is the run's
// ConfigError.
void replay(const std::map<std::pair<std::int64_t, std::int64_t>, EvaluationRecord>& stored) {
    const CodesignSettings& cs = *experiment().codesign;
    const auto search = fuzz::host().create<SearchAlgorithm>(*cs.search.info, cs.search.params);
    search->start(cs.joint, experiment().seed, SearchBudget{static_cast<std::size_t>(cs.evaluations), static_cast<std::size_t>(cs.batch)});
    std::int64_t done = 0;
    for (std::int64_t round = 0; done < cs.evaluations; ++round) {
        const auto n = static_cast<std::size_t>(std::min<std::int64_t>(cs.batch, cs.evaluations - done));
        const std::vector<Candidate> asked = search->ask(n);
        if (asked.empty()) return;
        std::vector<Observation> told;
        for (std::size_t i = 0; i < asked.size(); ++i) {
            const auto it = stored.find({round, static_cast<std::int64_t>(i)});
            if (it == stored.end()) return fuzz::note(fmt::format("replayed up to round {} slot {}, where the run would evaluate", round, i));
            if (it->second.candidate != asked[i]) return fuzz::note(fmt::format("round {} slot {} holds another candidate (the run's error)", round, i));
            fuzz::check(cs.joint.is_canonical(it->second.candidate), "a replayed candidate is not a candidate of the space");
            const EvaluationRecord& r = it->second;
            told.push_back(Observation{r.candidate, r.score, std::vector<double>(r.objectives.begin(), r.objectives.end()), r.ok, r.reason, r.violation,
                                       r.accuracy_stddev});
        }
        search->tell(told);
        done += static_cast<std::int64_t>(asked.size());
    }
    fuzz::note(fmt::format("replayed all {} evaluations", done));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)experiment();
    (void)meta();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fs::path& db = fuzz::scratch_file("fuzz_search_db", "search.db");
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(db.string() + suffix);
    const char* rest = reinterpret_cast<const char*>(data) + (size > 0 ? 1 : 0);
    const std::size_t rest_size = size > 0 ? size - 1 : 0;
    if (size == 0 || data[0] % 2 == 0) {
        write_bytes(db, rest, rest_size);
    } else {
        write_bytes(db, seed_db().data(), seed_db().size());
        sqlite3* h = nullptr;
        if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) fuzz::fail("cannot open a copy of the seed database");
        // The damage stays in this database and is bounded: no other file (ATTACH, VACUUM INTO), no
        // value over 1 MB, at most 10^6 virtual-machine steps (a recursive query ends).
        sqlite3_set_authorizer(
            h, [](void*, int action, const char*, const char*, const char*, const char*) { return action == SQLITE_ATTACH || action == SQLITE_DETACH ? SQLITE_DENY : SQLITE_OK; },
            nullptr);
        sqlite3_limit(h, SQLITE_LIMIT_ATTACHED, 0);
        sqlite3_limit(h, SQLITE_LIMIT_LENGTH, 1 << 20);
        int steps = 0;
        sqlite3_progress_handler(h, 1000, [](void* n) { return ++*static_cast<int*>(n) > 1000 ? 1 : 0; }, &steps);
        std::string sql(rest, rest_size);
        for (char& c : sql) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (sql.find("vacuum") == std::string::npos) sqlite3_exec(h, std::string(rest, rest_size).c_str(), nullptr, nullptr, nullptr);  // a failing statement stops the rest: fine
        sqlite3_close(h);
    }
    try {
        const ResultStore store(db, true, meta());
        replay(store.load());
    } catch (const ConfigError& e) {
        fuzz::check(std::string(e.what()).rfind(db.string() + ":", 0) == 0, std::string("a resume error does not start with the database: ") + e.what());
        fuzz::note(std::string("refused: ") + e.what());
    } catch (const PluginError& e) {
        fuzz::fail(std::string("the search failed on replayed rows: ") + e.what());
    } catch (const InternalError& e) {
        fuzz::fail(std::string("an internal error: ") + e.what());
    } catch (const Error& e) {
        fuzz::check(std::string(e.what()).rfind(db.string() + ":", 0) == 0, std::string("a store error does not start with the database: ") + e.what());
        fuzz::note(std::string("store error: ") + e.what());
    }
    return 0;
}
