#include "common/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "transcode/errors.hpp"

namespace fs = std::filesystem;

namespace transcode::engine {

namespace {

bool write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Makes the rename durable: the folder's entry is flushed too (best effort; some file systems
// refuse fsync on a directory).
void sync_folder(const fs::path& dir) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

void write_file_atomically(const fs::path& file, std::string_view bytes, std::string_view what, std::string_view hint) {
    const std::string shown = file.string();
    const std::string cannot = what.empty() ? "cannot write" : fmt::format("cannot write {}", what);
    // NAME.PID.XXXXXX: unique per process (the PID) and per call (mkstemp), in the target's folder
    // so the rename never crosses a file system.
    std::string pattern = fmt::format("{}.{}.XXXXXX", shown, ::getpid());
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    const int fd = ::mkstemp(name.data());
    if (fd < 0) throw ConfigError(fmt::format("{}: {} ({})", shown, cannot, hint));
    const fs::path tmp(name.data());
    auto discard = [&] {
        ::close(fd);
        ::unlink(tmp.c_str());
    };
    // mkstemp makes the file 0600; an output file gets the usual 0666 less the umask.
    static const mode_t mask = [] {  // read once: umask() can only be read by setting it
        const mode_t m = ::umask(0);
        ::umask(m);
        return m;
    }();
    ::fchmod(fd, 0666 & ~mask);
    if (!write_all(fd, bytes) || ::fsync(fd) != 0) {
        discard();
        throw Error(fmt::format("{}: write failed (disk full?)", shown));
    }
    if (::close(fd) != 0) {
        ::unlink(tmp.c_str());
        throw Error(fmt::format("{}: write failed (disk full?)", shown));
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        throw ConfigError(fmt::format("{}: {}: {}", shown, cannot, std::strerror(err)));
    }
    sync_folder(file.parent_path());
}

}  // namespace transcode::engine
