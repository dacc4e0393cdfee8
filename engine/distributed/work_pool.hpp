// A pool that runs independent work items through one work function on workers, in any order, and
// hands each result back to the caller's thread as it finishes. Items and results are strings
// (JSON, say), so that the same pool can run on threads (LocalPool) or on MPI ranks (MpiPool,
// mpi_pool.hpp): what travels is exactly what a rank would send.
//
// A failed item (its work function threw) stops new dispatch; the items already running finish
// and are handed back; then run() throws the first failure as the same kind of error
// (ConfigError, PluginError, InternalError, else Error), its message prefixed with the item's label.
//
// Nothing here knows what the items mean: co-design candidates (codesign/) and sweep points
// (sweep/) go through the same pool.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace transcode::engine::distributed {

/// One unit of work: what the work function receives, and a label that names it in errors
/// ("round 3 slot 2 (design ...)").
struct WorkItem {
    std::string payload;
    std::string label;
};

/// payload -> result. Called on a worker (a thread of this process or another rank); may throw.
using WorkFunction = std::function<std::string(const std::string& payload)>;
/// (index of the item in run()'s list, its result), called on run()'s caller thread.
using ResultHandler = std::function<void(std::size_t index, std::string result)>;

/// What a pool measured over its lifetime (every run() call).
struct PoolStats {
    unsigned ranks = 1;        ///< processes taking part (1 for LocalPool)
    unsigned workers = 1;      ///< items that can run at once
    std::size_t items = 0;     ///< items handed back
    double work_seconds = 0;   ///< summed time inside the work function
    /// Items that crossed a process boundary, and their summed round trip (sent -> result
    /// received and decoded on rank 0) minus the work function's time on the worker: the dispatch
    /// overhead (messages, serialisation of the frame, rank 0's reaction time).
    std::size_t remote_items = 0;
    double remote_overhead_seconds = 0;
    std::vector<std::size_t> items_per_rank;  ///< rank -> items it ran
};

class WorkPool {
public:
    virtual ~WorkPool() = default;
    /// How many items can run at once.
    virtual unsigned workers() const = 0;
    /// Runs every item through `work` and calls `on_result` on this thread for each, in the order
    /// they finish. Returns when all are handed back; throws the first failure (see above). An
    /// exception from `on_result` also stops dispatch, waits for running items and is rethrown.
    virtual void run(const std::vector<WorkItem>& items, const WorkFunction& work, const ResultHandler& on_result) = 0;
    virtual PoolStats stats() const = 0;
};

/// std::threads in this process (what `--threads N` does).
class LocalPool final : public WorkPool {
public:
    explicit LocalPool(unsigned threads);
    unsigned workers() const override { return threads_; }
    void run(const std::vector<WorkItem>& items, const WorkFunction& work, const ResultHandler& on_result) override;
    PoolStats stats() const override { return stats_; }

private:
    unsigned threads_;
    PoolStats stats_;
};

/// A failure as it travels: its kind and message, and back to the same exception type.
struct WorkError {
    enum class Kind { config, plugin, internal, other };
    Kind kind = Kind::other;
    std::string message;
};
/// The current exception (call inside a catch block) as a WorkError.
WorkError current_work_error();
/// Throws the error's kind with "LABEL: MESSAGE".
[[noreturn]] void throw_work_error(const WorkError& error, const std::string& label);

}  // namespace transcode::engine::distributed
