// Per-section figures of a model graph: parameters, FLOPs of each phase, activation memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transcode/graph.hpp"

namespace transcode::engine {

struct SectionSummary {
    std::string name;  ///< "embeddings", "layer 0", ..., "pooler", "task head"
    int layer = 0;     ///< OpDesc::layer of the section
    std::int64_t parameters = 0;
    double forward_flops = 0;
    double backward_flops = 0;
    double update_flops = 0;
    double activation_bytes = 0;  ///< forward activations the section produces (kept for backward)
    int ops = 0;
};

struct ModelSummary {
    std::vector<SectionSummary> sections;
    SectionSummary total;
    /// Parameters without the task head (classifier): the published model size.
    std::int64_t parameters_without_head = 0;
    bool training = false;
    int tensors = 0;
};

/// Summarises `g` (a forward or training graph). Weights count in the section of their first
/// consumer.
ModelSummary summarize(const ModelGraph& g);

nlohmann::json to_json(const ModelSummary& s);

}  // namespace transcode::engine
