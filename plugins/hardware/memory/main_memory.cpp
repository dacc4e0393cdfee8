#include "main_memory.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace transcode::plugins::memory {

namespace {

constexpr const char* plugin_name = "memory.main_memory";

const std::vector<std::string>& type_choices() {
    static const std::vector<std::string> c{"lpddr3", "hbm", "rram"};
    return c;
}

ParamSchema main_memory_schema() {
    return {
        ParamSpec::enumeration("type", "memory technology: lpddr3 (LP-DDR3 DRAM), hbm or rram", type_choices()).required(),
        ParamSpec::integer("banks", "banks per rank").unit("banks").greater_than(0).required(),
        ParamSpec::integer("ranks", "ranks per channel").unit("ranks").greater_than(0).required(),
        ParamSpec::integer("channels", "channels").unit("channels").greater_than(0).required(),
        ParamSpec::enumeration("mode", "which bandwidth applies", {"low_bandwidth", "high_bandwidth"}).default_value("low_bandwidth"),
        ParamSpec::floating("low_bandwidth_gbps", "bandwidth in low_bandwidth mode (1 GB/s = 1e9 bytes/s)")
            .unit("GB/s")
            .greater_than(0)
            .required(),
        ParamSpec::floating("high_bandwidth_gbps", "bandwidth in high_bandwidth mode (1 GB/s = 1e9 bytes/s)")
            .unit("GB/s")
            .greater_than(0)
            .required(),
        ParamSpec::floating("latency_ns", "from a read's issue to its first byte; no figure is published: 100 ns is a typical loaded "
                                          "DRAM read latency (row activation, CAS, controller and PHY)")
            .unit("ns")
            .min(0)
            .max(1e9)
            .default_value(100.0),
        ParamSpec::list("figures",
                        "access energy per organisation, one row each: type, banks, ranks, channels, energy_nj_per_64b (nJ); "
                        "the row matching (type, banks, ranks, channels) is used (configs/components/memory.yaml)",
                        ParamSpec::map("row", "one memory organisation",
                                       {
                                           ParamSpec::enumeration("type", "memory technology", type_choices()).required(),
                                           ParamSpec::integer("banks", "banks per rank").unit("banks").greater_than(0).required(),
                                           ParamSpec::integer("ranks", "ranks per channel").unit("ranks").greater_than(0).required(),
                                           ParamSpec::integer("channels", "channels").unit("channels").greater_than(0).required(),
                                           ParamSpec::floating("energy_nj_per_64b", "energy of one 64-byte access").unit("nJ").min(0).required(),
                                       }))
            .min(1)
            .required(),
    };
}

std::string organisation(std::int64_t banks, std::int64_t ranks, std::int64_t channels) {
    return std::to_string(banks) + "-" + std::to_string(ranks) + "-" + std::to_string(channels);
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string plural(std::int64_t n, const std::string& one) { return std::to_string(n) + " " + one + (n == 1 ? "" : "s"); }

}  // namespace

MainMemory::MainMemory(const Params& params) : StorageLevel(ComponentRole::main_memory, "main_memory") {
    const std::string type = params.get_string("type");
    const std::int64_t banks = params.get_int("banks"), ranks = params.get_int("ranks"), channels = params.get_int("channels");
    const ValueList& rows = params.get_list("figures");
    std::optional<double> energy_nj;
    std::vector<std::string> same_type;  // banks-ranks-channels of the rows of this type
    std::vector<std::string> other_types;
    std::vector<std::string> keys;       // type banks-ranks-channels of every row, for duplicates
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const Params row(rows[i].as_map());
        const std::string row_type = row.get_string("type");
        const std::string org = organisation(row.get_int("banks"), row.get_int("ranks"), row.get_int("channels"));
        const std::string key = row_type + " " + org;
        for (std::size_t j = 0; j < keys.size(); ++j)
            if (keys[j] == key)
                throw ConfigError("figures[" + std::to_string(i) + "]", "figures[" + std::to_string(i) + "] repeats the row for " + key +
                                                                            " (figures[" + std::to_string(j) + "]); keep one");
        keys.push_back(key);
        if (row_type == type) {
            same_type.push_back(org);
            if (org == organisation(banks, ranks, channels)) energy_nj = row.get_float("energy_nj_per_64b");
        } else if (std::find(other_types.begin(), other_types.end(), row_type) == other_types.end()) {
            other_types.push_back(row_type);
        }
    }
    if (!energy_nj) {
        std::string msg = "no figures for " + type + " with " + plural(banks, "bank") + ", " + plural(ranks, "rank") + " and " +
                          plural(channels, "channel") + " (" + organisation(banks, ranks, channels) + "); ";
        if (!same_type.empty())
            msg += "rows exist for " + type + " (banks-ranks-channels): " + join(same_type);
        else
            msg += "the figures have no " + type + " rows (rows exist for: " + join(other_types) + ")";
        throw ConfigError("figures", msg);
    }
    const bool high = params.get_string("mode") == "high_bandwidth";
    storage_.capacity_bytes = 0.0;  // unbounded
    // One channel: reads and writes share its bandwidth.
    storage_.read_bandwidth_bytes_per_s = storage_.write_bandwidth_bytes_per_s = params.get_float(high ? "high_bandwidth_gbps" : "low_bandwidth_gbps") * 1e9;
    storage_.latency_s = params.get_float("latency_ns") * 1e-9;
    storage_.energy_per_byte_j = *energy_nj * 1e-9 / 64.0;
}

Factory main_memory_factory() {
    return Factory{
        PluginKind::component,
        plugin_name,
        "Off-chip main memory: LP-DDR3 DRAM, HBM or RRAM, by banks, ranks and channels (main_memory)\n"
        "energy per byte = energy_nj_per_64b / 64 from the row matching (type, banks, ranks, channels); bandwidth =\n"
        "low_bandwidth_gbps or high_bandwidth_gbps by mode, shared by reads and writes; latency latency_ns; capacity unbounded. No chip area and no leakage (no\n"
        "published figure). See plugins/hardware/README.md.",
        main_memory_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<MainMemory>(params); },
    };
}

}  // namespace transcode::plugins::memory
