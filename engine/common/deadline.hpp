// A wall-clock budget for the work of one thread (search.evaluation_timeout_s): cooperative, so
// nothing is killed mid-way. Long loops (the simulator's ops and tile waves, the trainer's steps)
// call check_deadline(); past the deadline it throws DeadlineExceeded, which unwinds like any
// exception (every object on the way is destroyed normally) to whoever set the deadline.
#pragma once

#include <chrono>

#include "transcode/errors.hpp"

namespace transcode::engine {

/// Thrown by check_deadline() once the calling thread's deadline has passed.
class BOOST_SYMBOL_VISIBLE DeadlineExceeded : public Error {
public:
    DeadlineExceeded() : Error("the deadline passed") {}
};

/// Sets a deadline `seconds` from now for the calling thread while it lives (<= 0: none); the
/// previous deadline comes back at its end. Nested scopes keep the earlier of the two deadlines.
class DeadlineScope {
public:
    explicit DeadlineScope(double seconds);
    ~DeadlineScope();
    DeadlineScope(const DeadlineScope&) = delete;
    DeadlineScope& operator=(const DeadlineScope&) = delete;

private:
    bool had_ = false;
    std::chrono::steady_clock::time_point previous_{};
};

namespace detail {
extern thread_local bool deadline_set;
extern thread_local std::chrono::steady_clock::time_point deadline_at;
}  // namespace detail

/// Throws DeadlineExceeded if the calling thread has a deadline and it has passed; one branch
/// when there is none.
inline void check_deadline() {
    if (detail::deadline_set && std::chrono::steady_clock::now() >= detail::deadline_at) throw DeadlineExceeded();
}

}  // namespace transcode::engine
