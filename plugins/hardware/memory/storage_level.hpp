// A component that is only a level of the memory hierarchy (main memory, the interconnect): what it
// moves is all it costs. No area and no leakage (no figure is published for either), never gated.
#pragma once

#include <string>
#include <utility>

#include "transcode/component.hpp"

namespace transcode::plugins::memory {

class StorageLevel : public Component {
public:
    StorageLevel(ComponentRole role, std::string kind) : role_(role), kind_(std::move(kind)) {}

    ComponentRole role() const override { return role_; }
    std::string unit_kind() const override { return kind_; }
    double area_mm2() const override { return 0.0; }
    double leakage_w() const override { return 0.0; }
    bool power_gateable() const override { return false; }
    StorageSpec storage() const override { return storage_; }

protected:
    StorageSpec storage_;

private:
    ComponentRole role_;
    std::string kind_;
};

}  // namespace transcode::plugins::memory
