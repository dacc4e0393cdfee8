#include "common/deadline.hpp"

#include <algorithm>

namespace transcode::engine {

namespace detail {
thread_local bool deadline_set = false;
thread_local std::chrono::steady_clock::time_point deadline_at{};
}  // namespace detail

DeadlineScope::DeadlineScope(double seconds) : had_(detail::deadline_set), previous_(detail::deadline_at) {
    if (seconds <= 0) return;
    const auto now = std::chrono::steady_clock::now();
    // Clamped to a year: a huge budget must not overflow the clock's representation.
    const auto span = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(std::min(seconds, 3.15e7)));
    const auto at = now + span;
    detail::deadline_at = had_ ? std::min(previous_, at) : at;
    detail::deadline_set = true;
}

DeadlineScope::~DeadlineScope() {
    detail::deadline_set = had_;
    detail::deadline_at = previous_;
}

}  // namespace transcode::engine
