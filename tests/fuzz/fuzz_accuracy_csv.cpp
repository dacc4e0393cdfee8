// fuzz_accuracy_csv: bytes -> an accuracy table (the CSV of accuracy.surrogate, e.g.
// configs/accuracy/flexibert2-sst2.csv) -> the plugin created on it (RFC 4180 reader, the model
// column's YAML, the fractions, the Gaussian-process fit), then one estimate.
//
// The input is written to a scratch file named by the plugin's `csv` parameter. A ConfigError (path
// `csv`) is the expected answer to a bad table and must name the file; an accepted table gives an
// estimate for BERT-Tiny whose accuracy, standard deviation and sparsity figures are finite, the
// fractions within [0, 1], and the same estimate twice.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "config/schema_validation.hpp"
#include "fuzz_support.hpp"
#include "transcode/accuracy.hpp"

using namespace transcode;

namespace {

const engine::PluginInfo& surrogate() {
    static const engine::PluginInfo* info = fuzz::host().find("accuracy.surrogate", PluginKind::accuracy);
    if (info == nullptr) fuzz::fail("no accuracy.surrogate among the built-in plugins");
    return *info;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)surrogate();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path& file = fuzz::scratch_file("fuzz_accuracy_csv", "table.csv");
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    static const Params params = config::parse_params(surrogate().schema, "csv: '" + file.string() + "'");
    try {
        const auto estimator = fuzz::host().create<AccuracyEstimator>(surrogate(), params);
        static const Value model = ValueMap{{"preset", Value{std::string("bert-tiny")}}};
        static const std::string family = "flexibert";
        const AccuracyEstimate e = estimator->estimate(AccuracyRequest{model, family, 1, nullptr});
        fuzz::check(std::isfinite(e.accuracy) && e.accuracy >= 0 && e.accuracy <= 1, "an estimate outside [0, 1]");
        fuzz::check(std::isfinite(e.stddev) && e.stddev >= 0, "a standard deviation that is negative or not finite");
        for (const auto& [role, s] : e.sparsity) fuzz::check(std::isfinite(s) && s >= 0 && s <= 1, "a sparsity estimate outside [0, 1]: " + role);
        const AccuracyEstimate again = estimator->estimate(AccuracyRequest{model, family, 1, nullptr});
        fuzz::check(again.accuracy == e.accuracy && again.stddev == e.stddev && again.sparsity == e.sparsity, "two estimates of one model differ");
    } catch (const ConfigError& e) {
        fuzz::check(std::string(e.what()).find(file.string()) != std::string::npos, std::string("a table error does not name the file: ") + e.what());
    }
    return 0;
}
