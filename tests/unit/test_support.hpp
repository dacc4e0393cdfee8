// Helpers shared by the unit tests: temporary files and running the real CLI.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin_host/plugin_host.hpp"

namespace transcode::test {

/// The built-in plugins (and TRANSCODE_PLUGIN_PATH), loaded once per test process through the
/// real loader.
inline engine::PluginHost& builtin_plugins() {
    static const std::unique_ptr<engine::PluginHost> host = [] {
        auto h = std::make_unique<engine::PluginHost>();
        h->load_defaults();
        return h;
    }();
    return *host;
}

/// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
public:
    TempDir() {
        static int counter = 0;
        path_ = std::filesystem::temp_directory_path() / ("transcode-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    /// Writes `text` to `name` inside the directory and returns the full path.
    std::filesystem::path write(const std::string& name, const std::string& text) const {
        const auto p = path_ / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
        return p;
    }

private:
    std::filesystem::path path_;
};

struct CliResult {
    int exit_code = -1;
    std::string output;  ///< stdout and stderr, interleaved
};

/// Runs a shell command and captures its output (stdout and stderr).
inline CliResult run_shell(const std::string& command) {
    CliResult r;
    const std::string cmd = "{ " + command + "; } 2>&1";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

/// Runs the built `transcode` executable with `args` (shell syntax) and captures its output.
/// `env` (e.g. "NAME=value") is set for that one run.
inline CliResult run_cli(const std::string& args, const std::string& env = "") {
    return run_shell(env + (env.empty() ? "" : " ") + "'" + TRANSCODE_CLI + "' " + args);
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace transcode::test
