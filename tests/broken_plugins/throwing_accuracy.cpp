// An accuracy estimator that fails for one model: the MPI tests (tests/mpi/) run a co-design in
// which exactly the candidates with that model throw, on whichever rank evaluates them, and check
// that the job names the candidate, keeps the finished evaluations and ends on every rank.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "transcode/sdk.hpp"

namespace {

std::int64_t first_int(const transcode::Value& v) {
    if (v.is_int()) return v.as_int();
    if (v.is_list() && !v.as_list().empty()) return first_int(v.as_list().front());
    return -1;
}

class ThrowingAccuracy : public transcode::AccuracyEstimator {
public:
    ThrowingAccuracy(std::int64_t layers, std::int64_t hidden, std::int64_t heads) : layers_(layers), hidden_(hidden), heads_(heads) {}
    transcode::AccuracyEstimate estimate(const transcode::AccuracyRequest& request) const override {
        const auto& params = request.model_params.as_map();
        const auto layers = params.find("layers"), hidden = params.find("hidden"), heads = params.find("heads");
        const std::int64_t l = layers != params.end() ? first_int(layers->second) : -1;
        const std::int64_t h = hidden != params.end() ? first_int(hidden->second) : -1;
        // FlexiBERT's heads: one list of head operations per layer; the first layer's count.
        std::int64_t a = -1;
        if (heads != params.end() && heads->second.is_list() && !heads->second.as_list().empty() && heads->second.as_list().front().is_list())
            a = static_cast<std::int64_t>(heads->second.as_list().front().as_list().size());
        if (l == layers_ && h == hidden_ && (heads_ < 0 || a == heads_))
            throw std::runtime_error("deliberate failure for the model with " + std::to_string(l) + " layers of hidden size " + std::to_string(h));
        // Deterministic and distinct per model, so that the search has something to rank.
        transcode::AccuracyEstimate e;
        e.accuracy = 0.6 + 0.02 * static_cast<double>(l) + static_cast<double>(h) / 10000.0;
        e.source = "throwing_accuracy (test)";
        return e;
    }

private:
    std::int64_t layers_, hidden_, heads_;
};

const transcode::FactoryList* factories() {
    static const transcode::FactoryList list{
        transcode::Factory{transcode::PluginKind::accuracy, "throwing_accuracy.on_model", "throws from estimate() for the model with these layers, hidden size and heads",
                           {transcode::ParamSpec::integer("layers", "the failing model's layers").default_value(std::int64_t{4}),
                            transcode::ParamSpec::integer("hidden", "the failing model's hidden size").default_value(std::int64_t{256}),
                            transcode::ParamSpec::integer("heads", "the failing model's heads (-1: any)").default_value(std::int64_t{-1})},
                           [](const transcode::Params& p) -> std::unique_ptr<transcode::PluginObject> {
                               return std::make_unique<ThrowingAccuracy>(p.get_int("layers"), p.get_int("hidden"), p.get_int("heads"));
                           }},
    };
    return &list;
}

}  // namespace

TRANSCODE_PLUGIN("throwing_accuracy", "0.0.1", &factories)
