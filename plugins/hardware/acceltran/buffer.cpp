#include "buffer.hpp"

#include <cmath>
#include <memory>
#include <vector>

#include "common.hpp"

namespace transcode::plugins::acceltran {

namespace {

const std::vector<std::string>& class_choices() {
    static const std::vector<std::string> c{"activation", "weight", "mask"};
    return c;
}

ParamSchema buffer_schema() {
    return {
        ParamSpec::enumeration("class", "what the buffer holds: activations (and their gradients), weights (and weight "
                                        "gradients and optimizer state) or sparsity masks",
                               class_choices())
            .required(),
        ParamSpec::floating("size_mb", "capacity (1 MB = 1048576 bytes)").unit("MB").greater_than(0).required(),
        ParamSpec::list(
            "figures",
            "figures per buffer class, one row each: class, area_um2_per_mb (µm²/MB), leakage_mw_per_mb (mW/MB), "
            "energy_nj_per_64b (nJ per 64-byte access at 1 MB, scaled by √size_mb), bandwidth_gbps (GB/s); the row "
            "matching class is used (configs/components/acceltran-buffers.yaml)",
            ParamSpec::map("row", "one buffer class",
                           {
                               ParamSpec::enumeration("class", "the buffer class of this row", class_choices()).required(),
                               ParamSpec::floating("area_um2_per_mb", "area per MB of capacity").unit("µm²/MB").greater_than(0).required(),
                               ParamSpec::floating("leakage_mw_per_mb", "leakage power per MB of capacity").unit("mW/MB").min(0).required(),
                               ParamSpec::floating("energy_nj_per_64b", "energy of a 64-byte access to a 1 MB buffer (× √size_mb)")
                                   .unit("nJ")
                                   .min(0)
                                   .required(),
                               ParamSpec::floating("bandwidth_gbps", "bandwidth (1 GB/s = 1e9 bytes/s)").unit("GB/s").greater_than(0).required(),
                           }))
            .min(1)
            .required(),
    };
}

BufferClass parse_class(const std::string& s) {
    if (s == "weight") return BufferClass::weight;
    if (s == "mask") return BufferClass::mask;
    return BufferClass::activation;
}

}  // namespace

Buffer::Buffer(const Params& params) : class_(parse_class(params.get_string("class"))) {
    const std::string cls = params.get_string("class");
    const Params row = select_row(
        params, cls, [](const Params& r) { return r.get_string("class"); }, "class",
        [&](const std::vector<std::string>& keys) { return "no figures for the " + cls + " buffer; rows exist for: " + join(keys); });
    const double size_mb = params.get_float("size_mb");
    area_mm2_ = um2_to_mm2(row.get_float("area_um2_per_mb") * size_mb);
    leakage_w_ = mw_to_w(row.get_float("leakage_mw_per_mb") * size_mb);
    storage_.capacity_bytes = size_mb * 1048576.0;
    // One port of the published bandwidth, for reads and for writes alike.
    storage_.read_bandwidth_bytes_per_s = storage_.write_bandwidth_bytes_per_s = row.get_float("bandwidth_gbps") * 1e9;
    storage_.energy_per_byte_j = row.get_float("energy_nj_per_64b") * std::sqrt(size_mb) * 1e-9 / 64.0;
}

Factory buffer_factory() {
    return Factory{
        PluginKind::component,
        "acceltran.buffer",
        "AccelTran on-chip buffer (SRAM) for activations, weights or sparsity masks (buffer)\n"
        "area = area_um2_per_mb · size_mb; leakage = leakage_mw_per_mb · size_mb; capacity = size_mb · 1048576 bytes;\n"
        "energy per byte = energy_nj_per_64b · √size_mb / 64; read and write bandwidth = bandwidth_gbps. Always powered. Figures come from the row of the\n"
        "buffer's class; see plugins/hardware/README.md.",
        buffer_schema(),
        [](const Params& params) -> std::unique_ptr<PluginObject> { return std::make_unique<Buffer>(params); },
    };
}

}  // namespace transcode::plugins::acceltran
