// The mapping of one (batched) GEMM onto one level of on-chip storage: the loop order of its tiles
// between main memory and the buffers, the tile sizes, and the traffic that results
// (/work/shared/reference/mapping.md has the background; this file states the model it uses).
//
// Loop nest. C[m x n] = A[m x k] . B[k x n] is cut into tiles tile_m x tile_n x tile_k, so there are
// Tm = ceil(m / tile_m), Tn = ceil(n / tile_n) and Tk = ceil(k / tile_k) tiles along each dimension,
// visited by three nested tile loops. A depends on (m, k), B on (k, n), C on (m, n). An operand's
// tile is fetched again each time a loop it does not depend on, placed outside its innermost
// relevant loop, advances:
//   fetches(X) = product of the tile counts of the loops X does not depend on that sit outside X's
//                innermost relevant loop.
// Each dataflow is the innermost loop of the nest (the order of the two outer loops does not change
// any count):
//   output_stationary  k innermost ([m,n,k] or [n,m,k]):  A x Tn, B x Tm, C x 1
//   weight_stationary  m innermost ([n,k,m] or [k,n,m]):  A x Tn, B x 1,  C x Tk
//   input_stationary   n innermost ([m,k,n] or [k,m,n]):  A x 1,  B x Tm, C x Tk
// Traffic, per product, times `batch`:
//   read A = m k bytes_A fetches(A),  read B = k n bytes_B fetches(B),
//   write C = m n bytes_C fetches(C), read C = m n bytes_C (fetches(C) - 1)
// (when the reduction is split across C's fetches, partial sums go out and come back).
//
// Capacity. Single-buffered: the tiles of A, B and C are resident at once, so for each buffer the
// tile bytes of the operands it holds (tile_m tile_k bytes_A, tile_k tile_n bytes_B,
// tile_m tile_n bytes_C) sum to at most its capacity. A caller that double-buffers passes half of
// each capacity. Each tile is at least min(min_tile, dimension) and at most the dimension.
//
// Search. A dataflow's traffic does not depend on the tile of its innermost loop (output_stationary:
// tile_k, weight_stationary: tile_m, input_stationary: tile_n), which is therefore kept at its
// minimum. Of the two other tiles, one is enumerated and the other is the largest that still fits
// (traffic never rises when a tile grows). The enumerated one takes the smallest tile for each tile
// count T of a fixed grid: every T up to 32, then T grows by T/8 (1/8 apart, so within 12.5% of the
// best count of that dimension), up to the count of the minimum tile. The grid depends only on the
// dimension and its minimum tile, never on the capacities, so shrinking a capacity never lowers the
// traffic found. The enumerated dimension is the one with fewer tile counts (again capacity-free).
// That is at most a few dozen candidates per dataflow for transformer shapes (~6 per doubling of
// the range of tile sizes that fit), each a few arithmetic operations; the walk stops early at a
// candidate that moves every operand once. The result is within 12.5% of the exhaustive optimum of
// its dataflow, and exact while the enumerated dimension has at most 32 tile counts.
//
// Bounds. compulsory_bytes: every element of A and B read once and of C written once.
// traffic_lower_bound_bytes: Hong & Kung's bound in the tight form of Smith, Lowery, Langou and
// van de Geijn (2019): with S elements of fast storage, any schedule of one product moves at least
//   Q = 2 m n k / sqrt(S) - 2 S   elements.
// Here S = (the sum of the capacities of the buffers that hold A, B or C) / (the smallest
// element_bytes), the largest number of elements that fit; Q is converted to bytes with the
// smallest element_bytes and multiplied by `batch`, and the bound is max(compulsory, that).
//
// Products are computed in double, so dimensions up to 2^31 (and beyond) do not overflow.
// Includes only the standard library.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace transcode::engine {

/// The loop order of a GEMM's tiles at the main-memory <-> buffer level.
enum class Dataflow { output_stationary, weight_stationary, input_stationary, automatic };
/// "output_stationary", "weight_stationary", "input_stationary", "auto".
const char* to_string(Dataflow d);
/// The inverse of to_string; nullopt on anything else.
std::optional<Dataflow> dataflow_from_string(std::string_view s);

/// `batch` independent products C[m x n] = A[m x k] . B[k x n], each with its own A, B and C (a caller
/// folds a B shared across the batch into m, and a reduction over the batch into k, before asking).
struct GemmProblem {
    std::int64_t batch = 1, m = 1, n = 1, k = 1;
    double element_bytes[3] = {1, 1, 1};   ///< A, B, C: bytes per element (fractional for compressed sparse data)
    int buffer[3] = {0, 0, 0};             ///< which on-chip buffer holds A, B, C: an index into the capacities
    std::int64_t min_tile[3] = {1, 1, 1};  ///< the smallest tile along m, n, k (the processing element's tile)
};

struct GemmMapping {
    bool feasible = false;
    /// When infeasible: which buffer is too small for the smallest tile, with the bytes needed and
    /// available (or which field of the problem is invalid).
    std::string reason;
    Dataflow dataflow = Dataflow::output_stationary;  ///< the loop order chosen (never automatic)
    std::int64_t tile_m = 0, tile_n = 0, tile_k = 0;
    double read_bytes[3] = {0, 0, 0};   ///< main memory -> buffer, all batches: A, B (re-reads included), C (partial sums read back)
    double write_bytes = 0;             ///< buffer -> main memory, all batches: C's partial sums and its final value
    double fetches[3] = {0, 0, 0};      ///< how many times A and B are read whole, C written whole (>= 1)
    /// read_bytes of A, B and C plus write_bytes.
    double total_bytes() const;
};

/// The best mapping of `p` for the dataflow (automatic: the least traffic over the three dataflows, then
/// output_stationary > weight_stationary > input_stationary on ties), given the capacity in bytes of each
/// on-chip buffer. The tiles of A, B and C must fit at once (single-buffered): per buffer, the sum of the
/// tile bytes of the operands it holds <= its capacity. Infeasible (with a reason) when even the
/// smallest tiles do not fit, when a buffer index is outside `capacity_bytes`, or when batch, m, n or k
/// is below 1.
GemmMapping map_gemm(const GemmProblem& p, std::span<const double> capacity_bytes, Dataflow d);

/// Compulsory bytes: every element of A and B read once and of C written once, all batches.
double compulsory_bytes(const GemmProblem& p);
/// The communication lower bound: max(compulsory_bytes, batch x e x (2 m n k / sqrt(S) - 2 S)) with
/// e = the smallest element_bytes and S = (the capacities of the buffers holding A, B or C) / e
/// elements (Hong & Kung 1981; the tight form of Smith, Lowery, Langou, van de Geijn 2019). Buffer
/// indices outside `capacity_bytes` are ignored.
double traffic_lower_bound_bytes(const GemmProblem& p, std::span<const double> capacity_bytes);

}  // namespace transcode::engine
