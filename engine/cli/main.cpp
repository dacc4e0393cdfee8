// `transcode`: the command-line interface. Only this file maps exceptions to exit codes:
// 0 success, 1 the run failed, 2 bad input (config, arguments, plugins).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "config/diagnostics.hpp"
#include "transcode/errors.hpp"

namespace {

// A command ends by returning from main(), never by exit(): engine code never calls exit(). So an
// exit() (or quick_exit()) while a command runs came from elsewhere, e.g. a plugin, and the command
// did not finish: whatever status it asked for, the process ends with 1 and says why, so a run
// that wrote no results never reports success. (A plugin that calls _exit() bypasses every hook;
// results.json, written last, is then the sign of a finished run.)
std::atomic<bool> command_running{false};

void refuse_early_exit() {
    if (!command_running.load()) return;
    static const char message[] =
        "error: exit() was called before the command finished (by a plugin?); the command did not complete, so it failed and wrote no "
        "results.json\n";
    std::fflush(stdout);
    [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(1);
}

int run_command(CLI::App& app, const transcode::cli::Options& options) {
    try {
        return transcode::cli::run_selected(app, options);
    } catch (const transcode::ConfigError& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 2;
    } catch (const transcode::PluginError& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 2;
    } catch (const transcode::InternalError& e) {
        fmt::print(stderr, "internal error (a bug in transcode; please report it): {}\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"transcode: co-design of transformer models and hardware accelerators, for training and inference", "transcode"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for every command");
    app.set_version_flag("--version", transcode::cli::version_line(), "Print the engine version and the SDK ABI version");
    transcode::cli::Options options;
    transcode::cli::add_commands(app, options);
    // No command, or a first word that is none: CLI11 would say only "A subcommand is required".
    if (argc == 1 || argv[1][0] != '-') {
        std::vector<std::string> commands;
        for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
        const std::string word = argc > 1 ? argv[1] : "";
        if (std::find(commands.begin(), commands.end(), word) == commands.end()) {
            const std::string near = transcode::config::closest_match(word, commands);
            fmt::print(stderr, "error: {}{} Commands: {} (transcode --help for more)\n",
                       argc == 1 ? "no command given." : fmt::format("unknown command '{}'.", word),
                       near.empty() ? "" : fmt::format(" Did you mean '{}'?", near), fmt::join(commands, ", "));
            return 2;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    }
    std::atexit(refuse_early_exit);
    std::at_quick_exit(refuse_early_exit);
    command_running = true;
    const int status = run_command(app, options);
    command_running = false;
    return status;
}
