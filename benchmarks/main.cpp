// transcode-bench's main: Google Benchmark's own, plus
//  * context that every report carries (build type, compiler flags, engine version, SDK ABI), so
//    that no figure is quoted without knowing what produced it, and a warning when the build is
//    not Release;
//  * a non-zero exit status when any case reported an error (a setup that failed, a plugin that
//    is missing), so that the `bench-smoke` test fails instead of printing an error and passing.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "report/results.hpp"
#include "transcode/version.hpp"

#ifndef TRANSCODE_BENCH_BUILD_TYPE
#error "TRANSCODE_BENCH_BUILD_TYPE must be defined by the build (benchmarks/CMakeLists.txt)"
#endif
#ifndef TRANSCODE_BENCH_CXX_FLAGS
#define TRANSCODE_BENCH_CXX_FLAGS ""
#endif

namespace {

// Forwards everything to the reporter chosen by --benchmark_format, and counts runs in error.
class ErrorCountingReporter final : public benchmark::BenchmarkReporter {
public:
    explicit ErrorCountingReporter(benchmark::BenchmarkReporter* inner) : inner_(inner) {
        SetOutputStream(&inner->GetOutputStream());
        SetErrorStream(&inner->GetErrorStream());
    }
    bool ReportContext(const Context& context) override { return inner_->ReportContext(context); }
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs)
            if (run.error_occurred) ++errors_;
        inner_->ReportRuns(runs);
    }
    void Finalize() override { inner_->Finalize(); }
    int errors() const { return errors_; }

private:
    benchmark::BenchmarkReporter* inner_;  // owned by Google Benchmark
    int errors_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    const std::string_view build_type = TRANSCODE_BENCH_BUILD_TYPE;
    benchmark::AddCustomContext("build_type", std::string(build_type.empty() ? "(none)" : build_type));
    benchmark::AddCustomContext("cxx_flags", TRANSCODE_BENCH_CXX_FLAGS);
#if defined(__clang__)
    benchmark::AddCustomContext("compiler", std::string("clang ") + __clang_version__);
#elif defined(__GNUC__)
    benchmark::AddCustomContext("compiler", std::string("gcc ") + __VERSION__);
#endif
    benchmark::AddCustomContext("engine_version", transcode::engine::engine_version());
    benchmark::AddCustomContext("sdk_abi_version", std::to_string(transcode::sdk_abi_version));

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (build_type != "Release")
        std::fprintf(stderr,
                     "***WARNING*** transcode-bench was built as '%s', not Release: its figures are not the engine's "
                     "and must not be quoted.\n",
                     build_type.empty() ? "(no build type)" : std::string(build_type).c_str());
    ErrorCountingReporter reporter(benchmark::CreateDefaultDisplayReporter());
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    if (reporter.errors() > 0) {
        std::fprintf(stderr, "transcode-bench: %d case(s) reported an error\n", reporter.errors());
        return 1;
    }
    return 0;
}
