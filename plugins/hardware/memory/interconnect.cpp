#include "interconnect.hpp"

#include <memory>

namespace transcode::plugins::memory {

namespace {

ParamSchema interconnect_schema() {
    return {
        ParamSpec::floating("read_bandwidth_gbps", "buffers -> PEs, all buffers together (1 GB/s = 1e9 bytes/s)").unit("GB/s").greater_than(0).max(1e9).required(),
        ParamSpec::floating("write_bandwidth_gbps", "PEs -> buffers (1 GB/s = 1e9 bytes/s)").unit("GB/s").greater_than(0).max(1e9).required(),
        ParamSpec::floating("energy_pj_per_byte", "energy per byte carried, beyond the buffer access itself").unit("pJ").min(0).max(1e6).default_value(0.0),
    };
}

}  // namespace

Interconnect::Interconnect(const Params& params) : StorageLevel(ComponentRole::interconnect, "interconnect") {
    storage_.read_bandwidth_bytes_per_s = params.get_float("read_bandwidth_gbps") * 1e9;
    storage_.write_bandwidth_bytes_per_s = params.get_float("write_bandwidth_gbps") * 1e9;
    storage_.energy_per_byte_j = params.get_float("energy_pj_per_byte") * 1e-12;
}

Factory interconnect_factory() {
    return Factory{
        PluginKind::component,
        "memory.interconnect",
        "The on-chip network between the buffers and the PEs (interconnect)\n"
        "Carries every byte tiles read from and write to the buffers, at read_bandwidth_gbps towards the PEs and\n"
        "write_bandwidth_gbps back, each shared by all PEs; energy_pj_per_byte per byte carried. No area or leakage\n"
        "(no published figure). See plugins/hardware/README.md.",
        interconnect_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Interconnect>(params); },
    };
}

}  // namespace transcode::plugins::memory
