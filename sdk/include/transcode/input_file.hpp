// Reading an input file (a config, a data file, a table) within a size limit.
//
// Every reader of user-named files goes through `read_input_file`: it refuses, before reading a
// byte, anything that is not a regular file (a directory, a FIFO, a device, a socket), with a
// message saying what it is, and a file larger than the reader's limit. Reading `/dev/zero` or a
// FIFO would otherwise grow memory without end or block for ever, and a directory would be
// reported as "not found". The read itself stops one byte past the limit, so a file that grows
// after the check is still refused.
//
// Header-only and inline, so a plugin (which includes only the SDK) reads its files the same way;
// nothing here crosses the plugin boundary.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace transcode {

/// Size limits of the input files, in bytes (documented in docs/errors.md, "Input files").
/// Configuration files (YAML: experiments, models, accelerators, design spaces, component figures,
/// sparsity profiles), each file of an include chain on its own.
inline constexpr std::uintmax_t max_config_file_bytes = std::uintmax_t{16} << 20;  // 16 MiB
/// Tables read whole (an accuracy CSV).
inline constexpr std::uintmax_t max_table_file_bytes = std::uintmax_t{16} << 20;  // 16 MiB
/// Training data (TSV, GLUE): a reader keeps every token as a string (about 32 bytes each), so a
/// file of one-letter tokens costs about 16 times its size; 64 MiB stays near 1 GB.
inline constexpr std::uintmax_t max_data_file_bytes = std::uintmax_t{64} << 20;  // 64 MiB
/// WordPiece vocabularies (BERT's is 232 KB; a token in the lookup table costs about 100 bytes).
inline constexpr std::uintmax_t max_vocabulary_file_bytes = std::uintmax_t{16} << 20;  // 16 MiB

/// "" when `st` is a regular file; else what it is ("a directory", "a FIFO (named pipe)", ...).
inline const char* non_regular_kind(const struct ::stat& st) {
    if (S_ISREG(st.st_mode)) return "";
    if (S_ISDIR(st.st_mode)) return "a directory";
    if (S_ISFIFO(st.st_mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(st.st_mode)) return "a character device";
    if (S_ISBLK(st.st_mode)) return "a block device";
    if (S_ISSOCK(st.st_mode)) return "a socket";
    return "not a regular file";
}

/// A size in bytes for messages: "17 MiB", "16.0 MiB (16777217 bytes)", "300 KiB", "12 bytes".
inline std::string format_bytes(std::uintmax_t n) {
    char buf[64];
    if (n >= (std::uintmax_t{1} << 20) && n % (std::uintmax_t{1} << 20) == 0)
        std::snprintf(buf, sizeof buf, "%ju MiB", n >> 20);
    else if (n >= (std::uintmax_t{1} << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB (%ju bytes)", static_cast<double>(n) / 1048576.0, n);
    else if (n >= 1024 && n % 1024 == 0)
        std::snprintf(buf, sizeof buf, "%ju KiB", n >> 10);
    else if (n >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB (%ju bytes)", static_cast<double>(n) / 1024.0, n);
    else
        std::snprintf(buf, sizeof buf, "%ju bytes", n);
    return buf;
}

/// Why `path` cannot be read as an input file of at most `max_bytes`, or "" when it can. The
/// reasons: "not found", "cannot be read: <errno text>", "is a directory, not a regular file" (also
/// a FIFO (named pipe), a character device, a block device, a socket), "is 17.0 MiB, more than the
/// limit of 16 MiB". Symbolic links are followed.
inline std::string input_file_problem(const std::filesystem::path& path, std::uintmax_t max_bytes) {
    struct ::stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR || path.empty()) return "not found";
        return std::string("cannot be read: ") + std::strerror(errno);
    }
    if (const char* kind = non_regular_kind(st); *kind != '\0') return std::string("is ") + kind + ", not a regular file";
    const auto size = static_cast<std::uintmax_t>(st.st_size);
    if (size > max_bytes)
        return "is " + format_bytes(size) + ", more than the limit of " + format_bytes(max_bytes);
    return "";
}

/// Whether a reason from input_file_problem or read_input_file is the size limit (rule `limit`), not
/// the file's kind or absence (rule `file`).
inline bool is_size_problem(const std::string& problem) { return problem.find("limit of") != std::string::npos; }

/// Reads all of `path` into `out` after the checks of `input_file_problem`. Returns "" on success,
/// else the reason (as above, or "cannot be opened: …", "grew past the limit of … while it was read").
inline std::string read_input_file(const std::filesystem::path& path, std::uintmax_t max_bytes, std::string& out) {
    out.clear();
    if (std::string problem = input_file_problem(path, max_bytes); !problem.empty()) return problem;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::string("cannot be opened: ") + std::strerror(errno);
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec) out.reserve(static_cast<std::size_t>(std::min(size, max_bytes)) + 1);  // one allocation
    char buf[65536];
    while (in) {
        in.read(buf, sizeof buf);
        out.append(buf, static_cast<std::size_t>(in.gcount()));
        if (out.size() > max_bytes) {
            out.clear();
            return "grew past the limit of " + format_bytes(max_bytes) + " while it was read";
        }
    }
    if (in.bad()) {
        out.clear();
        return "cannot be read: a read error";
    }
    return "";
}

}  // namespace transcode
