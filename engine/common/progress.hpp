// ProgressReporter: the one progress display of long runs (training epochs, co-design
// evaluations). On a terminal (stderr is a tty) one live line, redrawn in place, that a milestone
// (the end of an epoch, a tenth of a search's budget) ends with a newline so that it stays; not on
// a terminal (a log file, CI) one log line per milestone only. Every line ends with the time spent
// and an estimate of the time left. `quiet` shows nothing.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace transcode::engine {

/// "m:ss", or "h:mm:ss" from an hour on.
std::string clock_text(double seconds);

class ProgressReporter {
public:
    /// `label` starts every line ("[2/5 dynaprop] ").
    explicit ProgressReporter(bool quiet, std::string label = {});
    /// Reports the state `text`. `done` is the work this process has finished since it started and
    /// `left` the work still to do, in any one unit (steps, evaluations): they give the time left.
    void update(std::string_view text, double done, double left, bool milestone);
    /// Ends a live line that no milestone ended.
    void finish();
    /// The line update() shows, without the terminal's padding (for tests).
    std::string line(std::string_view text, double done, double left) const;

private:
    bool quiet_;
    bool tty_;
    bool open_ = false;  ///< a live line is on the terminal without its newline
    std::string label_;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace transcode::engine
