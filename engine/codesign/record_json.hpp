// An EvaluationRecord as JSON and back, field for field, for the records that travel between
// processes (an evaluation on another MPI rank, distributed/). Doubles round-trip exactly
// (nlohmann::json prints the shortest text that reads back to the same double); the non-finite
// ones, which JSON has no number for, travel as the strings "nan", "inf" and "-inf".
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "codesign/evaluator.hpp"

namespace transcode::engine {

nlohmann::json record_to_json(const EvaluationRecord& r);
/// Throws InternalError on a document that is not a record.
EvaluationRecord record_from_json(const nlohmann::json& j);

}  // namespace transcode::engine
