// acceltran.buffer: an on-chip SRAM buffer for one class of data (activations, weights or
// sparsity masks).
#pragma once

#include <string>

#include "transcode/component.hpp"
#include "transcode/plugin.hpp"

namespace transcode::plugins::acceltran {

class Buffer final : public Component {
public:
    explicit Buffer(const Params& params);

    ComponentRole role() const override { return ComponentRole::buffer; }
    std::string unit_kind() const override { return to_string(class_) + std::string("_buffer"); }
    double area_mm2() const override { return area_mm2_; }
    double leakage_w() const override { return leakage_w_; }
    bool power_gateable() const override { return false; }
    BufferClass buffer_class() const override { return class_; }
    StorageSpec storage() const override { return storage_; }

private:
    BufferClass class_;
    double area_mm2_;
    double leakage_w_;
    StorageSpec storage_;
};

/// The factory of acceltran.buffer.
Factory buffer_factory();

}  // namespace transcode::plugins::acceltran
