// An output folder held by one run for as long as it writes there: created if needed, checked
// writable before any work starts, and locked, so a second run into the same folder stops at once
// naming the process that holds it.
//
// The lock is flock(2) on D/.transcode.lock, which holds the holder's PID. The kernel releases it
// when the process ends however it ends (kill -9 included), so a stale lock file never blocks a
// later run. The file is removed when the holder releases it; a waiter that locked a removed file
// notices (its inode is no longer the path's) and tries again.
#pragma once

#include <filesystem>

namespace transcode::engine {

/// The lock file's name inside an output folder.
inline constexpr const char* output_lock_name = ".transcode.lock";

/// Removes `dir`/results.json of an earlier run (a missing one is fine). A run calls it once the
/// folder is its to write, before its first output file: results.json, written last, then marks a
/// folder whose outputs all come from one finished run. A run refused before that point (a
/// co-design search.db without --resume, say) leaves the earlier run's outputs as they were.
void remove_stale_results(const std::filesystem::path& dir);

class OutputFolderLock {
public:
    /// Creates `dir` if needed, checks that files can be created in it, and locks it. ConfigErrors:
    /// `output folder 'D': cannot create it: REASON`; `output folder 'D': cannot write in it: REASON`;
    /// `output folder 'D' is in use by another transcode run (process PID); wait for it to finish, or
    /// choose another --out folder` (`(process unknown)` when the holder's PID cannot be read).
    explicit OutputFolderLock(const std::filesystem::path& dir);
    ~OutputFolderLock();
    OutputFolderLock(const OutputFolderLock&) = delete;
    OutputFolderLock& operator=(const OutputFolderLock&) = delete;

    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
    std::filesystem::path file_;
    int fd_ = -1;
};

}  // namespace transcode::engine
