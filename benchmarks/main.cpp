// transcode-bench's main: Google Benchmark's own, plus context that every report carries (build
// type, compiler flags, engine version, SDK ABI), so that no figure is quoted without knowing
// what produced it.
#include <cstdio>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include "report/results.hpp"
#include "transcode/version.hpp"

#ifndef TRANSCODE_BENCH_BUILD_TYPE
#error "TRANSCODE_BENCH_BUILD_TYPE must be defined by the build (benchmarks/CMakeLists.txt)"
#endif
#ifndef TRANSCODE_BENCH_CXX_FLAGS
#define TRANSCODE_BENCH_CXX_FLAGS ""
#endif

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
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
