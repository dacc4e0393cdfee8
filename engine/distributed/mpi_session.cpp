#include "distributed/mpi_session.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "transcode/errors.hpp"

#ifdef TRANSCODE_WITH_MPI
// The C API only: no C++ bindings (which would need libmpi_cxx).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>
#endif

namespace transcode::engine::distributed {

bool launched_by_mpi() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(name) != nullptr) return true;
    return false;
}

unsigned cpus_this_process_may_use() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return std::max(1u, std::thread::hardware_concurrency());
    return static_cast<unsigned>(CPU_COUNT(&set));
}

#ifndef TRANSCODE_WITH_MPI

bool built_with_mpi() { return false; }

MpiSession::MpiSession() {
    throw ConfigError(
        "this transcode was built without MPI, but an MPI launcher started it (mpirun, srun); install an MPI (e.g. libopenmpi-dev) and "
        "rebuild, or run it without mpirun (--threads N uses the cores of one machine)");
}
MpiSession::~MpiSession() = default;
std::unique_ptr<WorkPool> MpiSession::pool() { throw InternalError("MpiSession::pool without MPI"); }
int MpiSession::serve(const WorkFunction&) { throw InternalError("MpiSession::serve without MPI"); }
void MpiSession::stop_workers(int) {}

#else

namespace {

// Message tags. A frame is a fixed header followed by the text (payload, result or message).
constexpr int tag_work = 1;     // rank 0 -> worker: {u64 index} payload
constexpr int tag_stop = 2;     // rank 0 -> worker: {i32 status}
constexpr int tag_result = 3;   // worker -> rank 0: {u64 index, f64 work seconds} result
constexpr int tag_failure = 4;  // worker -> rank 0: {u64 index, f64 work seconds, i32 kind} message

struct ResultHeader {
    std::uint64_t index;
    double seconds;
    std::int32_t kind;  // failures only
};

std::string frame(const void* header, std::size_t header_size, const std::string& text) {
    std::string buffer(header_size + text.size(), '\0');
    std::memcpy(buffer.data(), header, header_size);
    std::memcpy(buffer.data() + header_size, text.data(), text.size());
    return buffer;
}

void send(const std::string& buffer, int to, int tag) {
    MPI_Send(buffer.data(), static_cast<int>(buffer.size()), MPI_BYTE, to, tag, MPI_COMM_WORLD);
}

// Receives the message `status` describes (after a probe).
std::string receive(const MPI_Status& probed) {
    int count = 0;
    MPI_Get_count(&probed, MPI_BYTE, &count);
    std::string buffer(static_cast<std::size_t>(count), '\0');
    MPI_Recv(buffer.data(), count, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return buffer;
}

// Sleeps between polls: short right after activity, up to a millisecond when idle.
class Backoff {
public:
    std::chrono::microseconds next() {
        const auto d = delay_;
        delay_ = std::min(delay_ * 2, std::chrono::microseconds(1000));
        return d;
    }
    void reset() { delay_ = std::chrono::microseconds(10); }

private:
    std::chrono::microseconds delay_{10};
};

class MpiPool final : public WorkPool {
public:
    explicit MpiPool(int size) : size_(size) {
        stats_.ranks = static_cast<unsigned>(size);
        stats_.workers = static_cast<unsigned>(size);
        stats_.items_per_rank.assign(static_cast<std::size_t>(size), 0);
    }
    unsigned workers() const override { return static_cast<unsigned>(size_); }
    PoolStats stats() const override { return stats_; }
    void run(const std::vector<WorkItem>& items, const WorkFunction& work, const ResultHandler& on_result) override;

private:
    int size_;
    PoolStats stats_;
};

void MpiPool::run(const std::vector<WorkItem>& items, const WorkFunction& work, const ResultHandler& on_result) {
    using clock = std::chrono::steady_clock;
    // Shared with rank 0's helper thread: the next item, the stop flag and what it finished.
    struct LocalDone {
        std::size_t index;
        std::optional<std::string> result;
        WorkError error;
        double seconds;
    };
    std::mutex mutex;
    std::condition_variable ready;
    std::size_t next = 0;
    bool stop = false;
    std::deque<LocalDone> local_done;
    bool helper_running = false;
    auto take = [&]() -> std::optional<std::size_t> {
        std::lock_guard lock(mutex);
        if (stop || next >= items.size()) return std::nullopt;
        return next++;
    };

    std::vector<std::optional<std::size_t>> in_flight(static_cast<std::size_t>(size_));  // rank -> item
    std::vector<clock::time_point> sent_at(static_cast<std::size_t>(size_));
    auto dispatch = [&](int rank) {
        const auto index = take();
        if (!index) return;
        const std::uint64_t header = *index;
        send(frame(&header, sizeof header, items[*index].payload), rank, tag_work);
        in_flight[static_cast<std::size_t>(rank)] = *index;
        sent_at[static_cast<std::size_t>(rank)] = clock::now();
    };
    for (int rank = 1; rank < size_; ++rank) dispatch(rank);
    // Rank 0's own share, on a helper thread (MPI stays on this one).
    std::jthread helper;
    if (!items.empty()) {
        helper_running = true;
        helper = std::jthread([&] {
            for (;;) {
                const auto index = take();
                if (!index) break;
                const auto t0 = clock::now();
                LocalDone d{*index, std::nullopt, {}, 0};
                try {
                    d.result = work(items[*index].payload);
                } catch (...) {
                    d.error = current_work_error();
                }
                d.seconds = std::chrono::duration<double>(clock::now() - t0).count();
                std::lock_guard lock(mutex);
                if (!d.result) stop = true;
                local_done.push_back(std::move(d));
                ready.notify_one();
            }
            std::lock_guard lock(mutex);
            helper_running = false;
            ready.notify_one();
        });
    }

    std::optional<std::pair<WorkError, std::string>> first_failure;
    std::exception_ptr handler_failure;
    auto hand_back = [&](std::size_t index, std::string result, std::size_t rank) {
        ++stats_.items;
        ++stats_.items_per_rank[rank];
        if (handler_failure) return;
        try {
            on_result(index, std::move(result));
        } catch (...) {
            handler_failure = std::current_exception();
            std::lock_guard lock(mutex);
            stop = true;
        }
    };
    auto remote_busy = [&] { return std::any_of(in_flight.begin(), in_flight.end(), [](const auto& i) { return i.has_value(); }); };
    Backoff backoff;
    bool helper_seen_done = false;  // so that a finished helper wakes this loop once, not on every wait
    for (;;) {
        bool active = false;
        int flag = 0;
        MPI_Status probed;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &probed);
        if (flag != 0) {
            active = true;
            const auto received = clock::now();
            const std::string buffer = receive(probed);
            const auto rank = static_cast<std::size_t>(probed.MPI_SOURCE);
            ResultHeader header{};
            const std::size_t header_size = probed.MPI_TAG == tag_failure ? sizeof(ResultHeader) : offsetof(ResultHeader, kind);
            if (buffer.size() < header_size || !in_flight[rank] || (probed.MPI_TAG != tag_result && probed.MPI_TAG != tag_failure))
                throw InternalError("MPI pool: an unexpected message from rank " + std::to_string(rank));
            std::memcpy(&header, buffer.data(), header_size);
            in_flight[rank].reset();
            std::string text = buffer.substr(header_size);
            // The next item goes out before this one is handled: the worker never waits for rank 0's
            // handling (a store commit, say).
            if (probed.MPI_TAG == tag_failure) {
                std::lock_guard lock(mutex);
                stop = true;
            }
            dispatch(static_cast<int>(rank));
            const double round_trip = std::chrono::duration<double>(received - sent_at[rank]).count();
            stats_.work_seconds += header.seconds;
            if (probed.MPI_TAG == tag_failure) {
                if (!first_failure)
                    first_failure.emplace(WorkError{static_cast<WorkError::Kind>(header.kind), std::move(text)}, items[header.index].label);
            } else {
                ++stats_.remote_items;
                // Round trip minus work, plus the time from the result's arrival to the next send.
                stats_.remote_overhead_seconds += std::max(0.0, round_trip - header.seconds) + std::chrono::duration<double>(clock::now() - received).count();
                hand_back(header.index, std::move(text), rank);
            }
        }
        std::deque<LocalDone> mine;
        bool helper_done;
        {
            std::lock_guard lock(mutex);
            mine.swap(local_done);
            helper_done = !helper_running;
        }
        for (LocalDone& d : mine) {
            active = true;
            stats_.work_seconds += d.seconds;
            if (!d.result) {
                if (!first_failure) first_failure.emplace(d.error, items[d.index].label);
            } else {
                hand_back(d.index, std::move(*d.result), 0);
            }
        }
        if (helper_done && mine.empty() && !remote_busy()) break;
        if (helper_done) helper_seen_done = true;
        if (active) {
            backoff.reset();
            continue;
        }
        std::unique_lock lock(mutex);
        ready.wait_for(lock, backoff.next(), [&] { return !local_done.empty() || (!helper_running && !helper_seen_done); });
    }
    helper = {};
    if (first_failure) throw_work_error(first_failure->first, first_failure->second);
    if (handler_failure) std::rethrow_exception(handler_failure);
}

}  // namespace

bool built_with_mpi() { return true; }

MpiSession::MpiSession() {
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        throw ConfigError("the MPI library does not support MPI_THREAD_FUNNELED (rank 0 evaluates on a helper thread while its main thread "
                          "talks MPI); use an MPI built with thread support");
    }
}

MpiSession::~MpiSession() {
    if (rank_ == 0) stop_workers(0);
    MPI_Finalize();
}

std::unique_ptr<WorkPool> MpiSession::pool() { return std::make_unique<MpiPool>(size_); }

void MpiSession::stop_workers(int status) {
    if (rank_ != 0 || stopped_) return;
    stopped_ = true;
    const std::int32_t s = status;
    for (int rank = 1; rank < size_; ++rank) send(frame(&s, sizeof s, ""), rank, tag_stop);
}

int MpiSession::serve(const WorkFunction& work) {
    Backoff backoff;
    for (;;) {
        int flag = 0;
        MPI_Status probed;
        MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &probed);
        if (flag == 0) {
            std::this_thread::sleep_for(backoff.next());
            continue;
        }
        backoff.reset();
        const std::string buffer = receive(probed);
        if (probed.MPI_TAG == tag_stop) {
            std::int32_t status = 0;
            if (buffer.size() >= sizeof status) std::memcpy(&status, buffer.data(), sizeof status);
            return status;
        }
        if (probed.MPI_TAG != tag_work || buffer.size() < sizeof(std::uint64_t))
            throw InternalError("MPI worker: an unexpected message from rank 0 (tag " + std::to_string(probed.MPI_TAG) + ")");
        ResultHeader header{};
        std::memcpy(&header.index, buffer.data(), sizeof header.index);
        const auto t0 = std::chrono::steady_clock::now();
        std::string out;
        int tag = tag_result;
        try {
            out = work(buffer.substr(sizeof header.index));
        } catch (...) {
            const WorkError e = current_work_error();
            header.kind = static_cast<std::int32_t>(e.kind);
            out = e.message;
            tag = tag_failure;
        }
        header.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        send(frame(&header, tag == tag_failure ? sizeof header : offsetof(ResultHeader, kind), out), 0, tag);
    }
}

#endif

}  // namespace transcode::engine::distributed
