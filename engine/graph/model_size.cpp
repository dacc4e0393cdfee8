#include "graph/model_size.hpp"

#include <fmt/format.h>

#include "graph/graph_check.hpp"

namespace transcode::engine {

namespace {

// The product of `shape` as a double (exact up to 2^53, and never overflowing to a wrong sign).
double elements_of(const Shape& shape) {
    double n = 1;
    for (const auto d : shape) n *= static_cast<double>(d);
    return n;
}

}  // namespace

std::string model_size_problem(const ModelGraph& g) {
    double parameters = 0;
    for (const TensorDesc& t : g.tensors) {
        for (const auto d : t.shape)
            if (d < 1) return "";  // check_graph reports it
        const double n = elements_of(t.shape);
        if (n > static_cast<double>(max_tensor_elements))
            return fmt::format("tensor '{}' {} has {:.3g} elements, more than the limit of 2^40 ({:.3g}) per tensor", t.name, shape_text(t.shape), n,
                               static_cast<double>(max_tensor_elements));
        if (t.role == TensorRole::weight) parameters += n;
    }
    if (parameters > static_cast<double>(max_model_parameters))
        return fmt::format("the model has {:.3g} parameters, more than the limit of 2^40 ({:.3g})", parameters, static_cast<double>(max_model_parameters));
    return "";
}

}  // namespace transcode::engine
