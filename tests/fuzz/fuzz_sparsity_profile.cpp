// fuzz_sparsity_profile: bytes -> a sparsity_profile.yaml file -> engine::load_sparsity_profile
// (what `simulation.sparsity_profile` of an experiment reads; training runs write the files).
//
// The input is written to a scratch file and read at points 0 and 1. Every problem must be a located
// diagnostic (`FILE:LINE:COL: error:`); an accepted point gives fractions in [0, 1] and a dense
// weight figure (a profile measures only what pruning zeroes at run time); reading it twice gives
// the same figures.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "config/diagnostics.hpp"
#include "experiment/sparsity_profile.hpp"
#include "fuzz_support.hpp"

using namespace transcode;

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path& file = fuzz::scratch_file("fuzz_sparsity_profile", "sparsity_profile.yaml");
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    const config::Location where{"experiment.yaml", 3, 5};
    for (std::int64_t point : {0, 1}) {
        config::Diagnostics diags;
        const engine::SparsityByRole s = engine::load_sparsity_profile(file, point, where, diags);
        try {
            diags.throw_if_any();
        } catch (const ConfigError& e) {
            fuzz::check_located(e.what());
            continue;
        }
        for (double x : {s.activation, s.activation_gradient, s.weight_gradient})
            fuzz::check(x >= 0 && x <= 1, "an accepted profile holds a sparsity outside [0, 1]");
        fuzz::check(s.weight == 0, "a profile set the weights' sparsity");
        config::Diagnostics again_diags;
        const engine::SparsityByRole again = engine::load_sparsity_profile(file, point, where, again_diags);
        fuzz::check(again_diags.size() == 0 && again.activation == s.activation && again.activation_gradient == s.activation_gradient &&
                        again.weight_gradient == s.weight_gradient,
                    "reading the same profile twice differs");
    }
    return 0;
}
