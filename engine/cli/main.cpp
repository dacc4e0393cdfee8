// `transcode`: the command-line interface. Only this file maps exceptions to exit codes:
// 0 success, 1 the run failed, 2 bad input (config, arguments, plugins).
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/commands.hpp"
#include "transcode/errors.hpp"

int main(int argc, char** argv) {
    CLI::App app{"transcode: co-design of transformer models and hardware accelerators, for training and inference", "transcode"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for every command");
    transcode::cli::Options options;
    transcode::cli::add_commands(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    }
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
