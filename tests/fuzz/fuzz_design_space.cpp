// fuzz_design_space: bytes -> a design-space file -> engine::load_space_side (the loader and resolver
// of configs/design_spaces/*.yaml, as `transcode validate` reads one), then the space's first and
// last candidates decoded into a model or an accelerator config and resolved through the plugins.
//
// The target (model or accelerator) is the file's `target:` key, as `transcode validate` decides.
// `base:` resolves relative to configs/experiments/ (so ../models/... and ../accelerators/... reach
// the shipped files). Every problem must be a located ConfigError. An accepted space has at least
// one knob value per knob and a YAML node per value; decoding a canonical candidate never throws,
// and resolving the decoded config either succeeds or gives a located ConfigError (a combination of
// values the plugins refuse is not a loader error: each value alone was checked).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/node.hpp"
#include "design_space/design_space_file.hpp"
#include "fuzz_support.hpp"
#include "hardware/accelerator.hpp"
#include "model/model_file.hpp"

using namespace transcode;
using namespace transcode::engine;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::host();
    return 0;
}

namespace {

void resolve_decoded(const SpaceSide& side, const Candidate& c) {
    config::Diagnostics diags;
    try {
        if (side.target == SpaceSide::Target::model) {
            const config::Node model = decode_model(side, c, {});
            (void)to_flow_text(model);
            const auto m = resolve_model(model, "model", fuzz::host(), diags);
            diags.throw_if_any();
            fuzz::check(m.has_value(), "a decoded model did not resolve, and no diagnostic");
        } else {
            std::vector<std::pair<std::string, config::Node>> model_params;
            const config::Node acc = decode_accelerator(side, c, model_params);
            (void)to_flow_text(acc);
            const auto a = resolve_accelerator(acc, "accelerator", fuzz::host(), diags);
            diags.throw_if_any();
            fuzz::check(a.has_value(), "a decoded accelerator did not resolve, and no diagnostic");
        }
    } catch (const ConfigError& e) {
        fuzz::check_located(e.what());
    } catch (const PluginError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string source = fuzz::input_name();
    config::Diagnostics diags;
    const config::Node root = config::load_string(text, source, diags, fuzz::base_dir());
    const config::Node* target = root.find("target");
    const auto t = target != nullptr && target->scalar == "accelerator" ? SpaceSide::Target::accelerator : SpaceSide::Target::model;
    SpaceSide side;
    try {
        side = load_space_side(root, "", t, fuzz::host(), diags);
        diags.throw_if_any();
    } catch (const ConfigError& e) {
        fuzz::check_located(e.what());
        fuzz::note(std::string("refused: ") + e.what());
        return 0;
    } catch (const PluginError&) {
        return 0;
    }
    fuzz::note("accepted: " + side.name + ", " + std::to_string(side.space.size()) + " knobs");
    const auto& knobs = side.space.knobs();
    fuzz::check(side.value_nodes.size() == knobs.size(), "an accepted space has not one list of value nodes per knob");
    Candidate first(knobs.size(), 0), last(knobs.size(), 0);
    for (std::size_t k = 0; k < knobs.size(); ++k) {
        fuzz::check(!knobs[k].values.empty(), "an accepted space has a knob without values: " + knobs[k].name);
        fuzz::check(side.value_nodes[k].size() == knobs[k].values.size(), "an accepted knob has not one value node per value: " + knobs[k].name);
        last[k] = knobs[k].values.size() - 1;
    }
    first = side.space.canonical(first);
    last = side.space.canonical(last);
    fuzz::check(side.space.is_canonical(first) && side.space.is_canonical(last), "a canonical candidate is not canonical");
    resolve_decoded(side, first);
    resolve_decoded(side, last);
    return 0;
}
