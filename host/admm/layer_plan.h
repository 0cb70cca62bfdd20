// The tensors a layer allocates, as a list: used both to allocate them (Group) and to report
// memory per group before anything is allocated (`pdadmm info`).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/admm/params.h"

namespace pdadmm {

enum class Slot { W, b, z, p, q, u, wp, a, r, g, wg, gw, gp, gram, c, wx0, track, d, y, zeta, zeta_old, x };

struct TensorPlan {
  Slot slot;
  int64_t rows;
  int64_t cols;
};

struct LayerPlanOptions {
  bool quantize_p = false;
  int gram = 0;  // AdmmParams::gram
  bool defer_first_w = true;  // AdmmParams::defer_first_w
};
LayerPlanOptions plan_options(const AdmmParams& prm);

// Splits L layers into G contiguous groups, sizes differing by at most one (earlier groups larger).
std::vector<int> even_partition(int layers, int groups);

// Whether the W step of layer l uses the N x N Gram matrix pᵀp instead of forming G (cheaper
// when there are fewer training columns N than neurons; for l = 0, pᵀp is computed once).
bool layer_uses_gram(const std::vector<int64_t>& dims, int l, int64_t n_cols);

std::vector<TensorPlan> plan_layer(const std::vector<int64_t>& dims, int l, int64_t n_cols,
                                   const LayerPlanOptions& opt);
// GEMM FLOPs of one unquantized iteration of layers [first, end) as steps.cpp runs them (no W p
// refresh; -Q's projected p steps add a W d product per trial; a step that gives up does less).
// `info` prints it with plan_boundary_flops added; the benchmark's counting Ops measures the same.
double plan_iteration_flops(const std::vector<int64_t>& dims, int first, int end, int64_t n_cols,
                            const LayerPlanOptions& opt);
// GEMM FLOPs the group boundaries add per iteration: a p sent backward through a lossy wire
// (wire_is_lossless) is rounded in place, and its group refreshes W p of its first layer
// (Group::exchange_p_send). partition: layers per group.
double plan_boundary_flops(const std::vector<int64_t>& dims, const std::vector<int>& partition, int64_t n_cols,
                           const AdmmParams& prm, size_t scalar_bytes);
// Elements (scalars) of all tensors of layers [first, end) plus boundary copies (a double: any
// config's sizes plan without overflow).
double plan_group_elements(const std::vector<int64_t>& dims, int first, int end, int64_t n_cols,
                           const LayerPlanOptions& opt);

// Bytes of each of the two wire buffers (out, in) of group [first, end): the largest encoded p or q
// at either of its boundaries (0 for a single group). Group allocates these; `info` counts them.
size_t plan_wire_buffer_bytes(const std::vector<int64_t>& dims, int first, int end, int64_t n_cols,
                              const AdmmParams& prm, size_t scalar_bytes);
// Bytes handed to the transport per iteration (q forward and p backward at every boundary, as
// encoded): what train's and bench's bytes lines then measure. partition: layers per group.
size_t plan_boundary_bytes(const std::vector<int64_t>& dims, const std::vector<int>& partition, int64_t n_cols,
                           const AdmmParams& prm, size_t scalar_bytes);
// Bytes the group [first, end) allocates: its tensors and its two wire buffers (`info` prints it;
// the CPU trainer checks it against the memory available before it allocates).
double plan_group_bytes(const std::vector<int64_t>& dims, int first, int end, int64_t n_cols, const AdmmParams& prm,
                        size_t scalar_bytes);

}  // namespace pdadmm
