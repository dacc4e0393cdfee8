#include "codesign/record_json.hpp"

#include <cmath>
#include <limits>

#include "codesign/result_store.hpp"
#include "transcode/errors.hpp"

namespace transcode::engine {

namespace {

nlohmann::json number(double v) {
    if (std::isfinite(v)) return v;
    if (std::isnan(v)) return "nan";
    return v > 0 ? "inf" : "-inf";
}

double number_of(const nlohmann::json& j) {
    if (j.is_number()) return j.get<double>();
    const std::string s = j.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw InternalError("an evaluation record holds '" + s + "' where a number belongs");
}

}  // namespace

nlohmann::json record_to_json(const EvaluationRecord& r) {
    nlohmann::json objectives = nlohmann::json::array();
    for (double o : r.objectives) objectives.push_back(number(o));
    nlohmann::json encoding = nlohmann::json::array();
    for (double e : r.encoding) encoding.push_back(number(e));
    return {{"round", r.round},
            {"slot", r.slot},
            {"candidate", r.candidate},
            {"encoding", encoding},
            {"design", r.design},
            {"model", r.model},
            {"accelerator", r.accelerator},
            {"ok", r.ok},
            {"reason", r.reason},
            {"violation", number(r.violation)},
            {"cached", r.cached},
            {"accuracy", number(r.accuracy)},
            {"accuracy_stddev", number(r.accuracy_stddev)},
            {"accuracy_source", r.accuracy_source},
            {"details", accuracy_details_json(r)},
            {"metrics",
             {number(r.metrics.accuracy), number(r.metrics.latency_s), number(r.metrics.energy_j), number(r.metrics.area_mm2)}},
            {"dynamic_j", number(r.dynamic_j)},
            {"leakage_j", number(r.leakage_j)},
            {"cycles", r.cycles},
            {"score", number(r.score)},
            {"objectives", objectives},
            {"seconds", number(r.seconds)}};
}

EvaluationRecord record_from_json(const nlohmann::json& j) {
    try {
        EvaluationRecord r;
        r.round = j.at("round").get<std::int64_t>();
        r.slot = j.at("slot").get<std::int64_t>();
        r.candidate = j.at("candidate").get<Candidate>();
        for (const auto& e : j.at("encoding")) r.encoding.push_back(number_of(e));
        r.design = j.at("design").get<std::string>();
        r.model = j.at("model").get<std::string>();
        r.accelerator = j.at("accelerator").get<std::string>();
        r.ok = j.at("ok").get<bool>();
        r.reason = j.at("reason").get<std::string>();
        r.violation = number_of(j.at("violation"));
        r.cached = j.at("cached").get<bool>();
        r.accuracy = number_of(j.at("accuracy"));
        r.accuracy_stddev = number_of(j.at("accuracy_stddev"));
        r.accuracy_source = j.at("accuracy_source").get<std::string>();
        read_accuracy_details(j.at("details"), r);
        const auto& m = j.at("metrics");
        r.metrics = {number_of(m.at(0)), number_of(m.at(1)), number_of(m.at(2)), number_of(m.at(3))};
        r.dynamic_j = number_of(j.at("dynamic_j"));
        r.leakage_j = number_of(j.at("leakage_j"));
        r.cycles = j.at("cycles").get<std::int64_t>();
        r.score = number_of(j.at("score"));
        const auto& o = j.at("objectives");
        for (std::size_t i = 0; i < r.objectives.size(); ++i) r.objectives[i] = number_of(o.at(i));
        r.seconds = number_of(j.at("seconds"));
        return r;
    } catch (const nlohmann::json::exception& e) {
        throw InternalError(std::string("an evaluation record that does not read back: ") + e.what());
    }
}

}  // namespace transcode::engine
