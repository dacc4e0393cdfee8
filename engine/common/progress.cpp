#include "common/progress.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace transcode::engine {

std::string clock_text(double seconds) {
    const auto s = static_cast<long long>(std::max(0.0, seconds) + 0.5);
    return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

ProgressReporter::ProgressReporter(bool quiet, std::string label) : quiet_(quiet), tty_(isatty(fileno(stderr)) != 0), label_(std::move(label)) {}

std::string ProgressReporter::line(std::string_view text, double done, double left) const {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const std::string remaining = done > 0 ? "~" + clock_text(elapsed / done * std::max(0.0, left)) : std::string("?");
    return fmt::format("{}{}  elapsed {}  left {}", label_, text, clock_text(elapsed), remaining);
}

void ProgressReporter::update(std::string_view text, double done, double left, bool milestone) {
    if (quiet_) return;
    if (tty_) {
        fmt::print(stderr, "\r  {:<100}", line(text, done, left));
        open_ = !milestone;
        if (milestone) fmt::print(stderr, "\n");
        std::fflush(stderr);
    } else if (milestone) {
        spdlog::info("{}", line(text, done, left));
    }
}

void ProgressReporter::finish() {
    if (quiet_ || !open_) return;
    fmt::print(stderr, "\n");
    open_ = false;
}

}  // namespace transcode::engine
