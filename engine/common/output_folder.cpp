#include "common/output_folder.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "transcode/errors.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

std::string holder_of(int fd) {
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    const bool digits = !pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos;
    return digits ? "process " + pid : "process unknown";
}

}  // namespace

OutputFolderLock::OutputFolderLock(const fs::path& dir) : dir_(dir), file_(dir / output_lock_name) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw ConfigError(fmt::format("output folder '{}': cannot create it: {}", dir.string(), ec ? ec.message() : "a file of that name exists"));

    // Writable: a file can be created and removed there (permission bits alone say nothing for
    // root, or on a read-only mount).
    std::string probe = (dir / fmt::format(".transcode-probe.{}.XXXXXX", ::getpid())).string();
    std::vector<char> name(probe.begin(), probe.end());
    name.push_back('\0');
    const int probe_fd = ::mkstemp(name.data());
    if (probe_fd < 0) throw ConfigError(fmt::format("output folder '{}': cannot write in it: {}", dir.string(), std::strerror(errno)));
    ::close(probe_fd);
    ::unlink(name.data());

    for (int attempt = 0; attempt < 100; ++attempt) {
        const int fd = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) throw ConfigError(fmt::format("output folder '{}': cannot write in it: {}", dir.string(), std::strerror(errno)));
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            const std::string who = err == EWOULDBLOCK ? holder_of(fd) : std::string();
            ::close(fd);
            if (err == EWOULDBLOCK)
                throw ConfigError(fmt::format("output folder '{}' is in use by another transcode run ({}); wait for it to finish, or choose another "
                                              "--out folder",
                                              dir.string(), who));
            throw ConfigError(fmt::format("output folder '{}': cannot lock it: {}", dir.string(), std::strerror(err)));
        }
        // The holder before us may have removed the file between our open and our lock: then we
        // hold a lock nobody else can see, so start again on the path's current file.
        struct stat held {}, current {};
        if (::fstat(fd, &held) == 0 && ::stat(file_.c_str(), &current) == 0 && held.st_ino == current.st_ino && held.st_dev == current.st_dev) {
            const std::string pid = fmt::format("{}\n", ::getpid());
            // Best effort: the PID only makes the message of a second run clearer.
            if (::ftruncate(fd, 0) == 0) {
                [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
            }
            fd_ = fd;
            return;
        }
        ::close(fd);
    }
    throw ConfigError(fmt::format("output folder '{}': cannot lock it: its lock file keeps changing", dir.string()));
}

void remove_stale_results(const fs::path& dir) {
    std::error_code ec;
    fs::remove(dir / "results.json", ec);  // a folder in its place is reported when results.json is written
}

OutputFolderLock::~OutputFolderLock() {
    if (fd_ < 0) return;
    ::unlink(file_.c_str());  // while still locked, so no other run can lock this file after us
    ::close(fd_);
}

}  // namespace transcode::engine
