#include "distributed/work_pool.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "transcode/errors.hpp"

namespace transcode::engine::distributed {

WorkError current_work_error() {
    try {
        throw;
    } catch (const ConfigError& e) {
        return {WorkError::Kind::config, e.what()};
    } catch (const PluginError& e) {
        return {WorkError::Kind::plugin, e.what()};
    } catch (const InternalError& e) {
        return {WorkError::Kind::internal, e.what()};
    } catch (const std::exception& e) {
        return {WorkError::Kind::other, e.what()};
    } catch (...) {
        return {WorkError::Kind::other, "an exception that is not a std::exception"};
    }
}

void throw_work_error(const WorkError& error, const std::string& label) {
    const std::string message = label.empty() ? error.message : label + ": " + error.message;
    switch (error.kind) {
        case WorkError::Kind::config: throw ConfigError(message);
        case WorkError::Kind::plugin: throw PluginError(message);
        case WorkError::Kind::internal: throw InternalError(message);
        case WorkError::Kind::other: break;
    }
    throw Error(message);
}

LocalPool::LocalPool(unsigned threads) : threads_(std::max(1u, threads)) {
    stats_.workers = threads_;
    stats_.items_per_rank.assign(1, 0);
}

void LocalPool::run(const std::vector<WorkItem>& items, const WorkFunction& work, const ResultHandler& on_result) {
    struct Done {
        std::size_t index;
        std::optional<std::string> result;  // empty: failed
        WorkError error;
        double seconds;
    };
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Done> done;
    std::size_t next = 0;  // the next item to start (under mutex)
    bool stop = false;     // a failure: start nothing more
    auto worker = [&] {
        for (;;) {
            std::size_t index;
            {
                std::lock_guard lock(mutex);
                if (stop || next >= items.size()) return;
                index = next++;
            }
            const auto t0 = std::chrono::steady_clock::now();
            Done d{index, std::nullopt, {}, 0};
            try {
                d.result = work(items[index].payload);
            } catch (...) {
                d.error = current_work_error();
            }
            d.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::lock_guard lock(mutex);
            if (!d.result) stop = true;
            done.push_back(std::move(d));
            ready.notify_one();
        }
    };
    const unsigned count = static_cast<unsigned>(std::min<std::size_t>(threads_, items.size()));
    std::vector<std::jthread> threads;
    threads.reserve(count);
    for (unsigned t = 0; t < count; ++t) threads.emplace_back(worker);

    // Hand results back here as they finish; after a failure, drain what is still running.
    std::optional<std::pair<WorkError, std::string>> first_failure;
    std::exception_ptr handler_failure;
    std::size_t handed = 0;
    for (;;) {
        Done d;
        {
            std::unique_lock lock(mutex);
            ready.wait(lock, [&] { return !done.empty() || handed == (stop ? next : items.size()); });
            if (done.empty()) break;  // everything started was handed back
            d = std::move(done.front());
            done.pop_front();
        }
        ++handed;
        stats_.work_seconds += d.seconds;
        if (!d.result) {
            if (!first_failure) first_failure.emplace(d.error, items[d.index].label);
            continue;
        }
        ++stats_.items;
        ++stats_.items_per_rank[0];
        if (handler_failure) continue;  // in-flight results after a failed item are still handed back
        try {
            on_result(d.index, std::move(*d.result));
        } catch (...) {
            handler_failure = std::current_exception();
            std::lock_guard lock(mutex);
            stop = true;
        }
    }
    threads.clear();  // join
    if (first_failure) throw_work_error(first_failure->first, first_failure->second);
    if (handler_failure) std::rethrow_exception(handler_failure);
}

}  // namespace transcode::engine::distributed
