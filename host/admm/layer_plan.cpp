// Tensor shapes per layer; the single source of truth for allocation and memory estimates.
#include "host/admm/layer_plan.h"

#include <algorithm>
#include <string>

#include "host/io/error.h"

namespace pdadmm {

std::vector<int> even_partition(int layers, int groups) {
  require(groups >= 1 && groups <= layers, "groups must be in [1, layers]");
  std::vector<int> p(groups, layers / groups);
  for (int g = 0; g < layers % groups; ++g) p[g]++;
  return p;
}

LayerPlanOptions plan_options(const AdmmParams& prm) {
  LayerPlanOptions o;
  o.quantize_p = quantizes_p(prm.quantize);
  o.gram = prm.gram;
  o.defer_first_w = prm.defer_first_w;
  return o;
}

bool layer_uses_gram(const std::vector<int64_t>& dims, int l, int64_t n_cols) {
  // In double: a plan of any config's sizes must not overflow (exact below 2^53, so the choice
  // for any size that fits in memory is the integers' one).
  const double n_in = static_cast<double>(dims[l]), n_out = static_cast<double>(dims[l + 1]);
  const double n = static_cast<double>(n_cols);
  // Direct: 4 n_out n_in N flops. Gram: 2 n_out n_in N + 2 n_out N² (+ 2 n_in N² unless fixed).
  const double gram_extra = (l == 0 ? 0 : n_in * n) + n_out * n;
  return gram_extra < n_out * n_in;
}

std::vector<TensorPlan> plan_layer(const std::vector<int64_t>& dims, int l, int64_t n, const LayerPlanOptions& opt) {
  const int num_layers = static_cast<int>(dims.size()) - 1;
  const int64_t n_in = dims[l], n_out = dims[l + 1];
  const bool last = (l == num_layers - 1);
  std::vector<TensorPlan> v = {{Slot::W, n_out, n_in}, {Slot::b, n_out, 1}, {Slot::z, n_out, n},
                               {Slot::wp, n_out, n},   {Slot::a, n_out, n}, {Slot::r, n_out, n},
                               {Slot::gp, n_out, n}};
  if (l == 0) v.push_back({Slot::x, n_in, n});
  if (l > 0) {
    v.push_back({Slot::p, n_in, n});
    v.push_back({Slot::g, n_in, n});
    v.push_back({Slot::wg, n_out, n});
    if (opt.quantize_p) v.push_back({Slot::d, n_in, n});
  }
  if (!last) {
    v.push_back({Slot::q, n_out, n});
    v.push_back({Slot::u, n_out, n});
  } else {
    v.push_back({Slot::y, n_out, n});
    v.push_back({Slot::zeta, n_out, n});
    v.push_back({Slot::zeta_old, n_out, n});
  }
  if (opt.gram > 0 || (opt.gram == 0 && layer_uses_gram(dims, l, n))) {
    v.push_back({Slot::gram, n, n});
    if (l == 0 && opt.defer_first_w) {
      v.push_back({Slot::c, n_out, n});
      v.push_back({Slot::wx0, n_out, n});
      v.push_back({Slot::track, n_out, n});
    }
  } else {
    v.push_back({Slot::gw, n_out, n_in});
  }
  return v;
}

double plan_iteration_flops(const std::vector<int64_t>& dims, int first, int end, int64_t n_cols,
                            const LayerPlanOptions& opt) {
  const double n = static_cast<double>(n_cols);
  double f = 0;
  for (int l = first; l < end; ++l) {
    const double in = static_cast<double>(dims[l]), out = static_cast<double>(dims[l + 1]);
    if (l > 0) f += 2 * 2 * out * in * n;  // p step: Wᵀ r, W g
    bool gram = false, deferred = false;
    for (const TensorPlan& t : plan_layer(dims, l, n_cols, opt)) {
      gram |= t.slot == Slot::gram;
      deferred |= t.slot == Slot::c;
    }
    if (!gram) {
      f += 2 * 2 * out * in * n;  // r pᵀ, G p
      continue;
    }
    if (l > 0) f += 2 * n * n * in;  // pᵀp (fixed for layer 0)
    f += 2 * out * n * n;            // r K
    if (!deferred) f += 2 * out * in * n;  // W -= (ν r pᵀ + μ W)/t
  }
  return f;
}

double plan_boundary_flops(const std::vector<int64_t>& dims, const std::vector<int>& partition, int64_t n_cols,
                           const AdmmParams& prm, size_t scalar_bytes) {
  if (wire_is_lossless(prm.wire_p, scalar_bytes)) return 0;
  double f = 0;
  int first = 0;
  for (size_t g = 0; g + 1 < partition.size(); ++g) {
    first += partition[g];  // the first layer of group g + 1 (never layer 0: no deferred W)
    f += 2.0 * static_cast<double>(dims[first + 1]) * static_cast<double>(dims[first]) * static_cast<double>(n_cols);
  }
  return f;
}

size_t plan_wire_buffer_bytes(const std::vector<int64_t>& dims, int first, int end, int64_t n_cols,
                              const AdmmParams& prm, size_t scalar_bytes) {
  WireSpec wp = prm.wire_p, wq = prm.wire_q;
  wp.grid = wq.grid = &prm.grid;  // a config's specs are not bound to a grid yet
  const int num_layers = static_cast<int>(dims.size()) - 1;
  size_t w = 0;
  for (int l : {first, end})
    if (l > 0 && l < num_layers)
      w = std::max({w, encoded_bytes(wp, dims[l], n_cols, scalar_bytes), encoded_bytes(wq, dims[l], n_cols, scalar_bytes)});
  return w;
}

size_t plan_boundary_bytes(const std::vector<int64_t>& dims, const std::vector<int>& partition, int64_t n_cols,
                           const AdmmParams& prm, size_t scalar_bytes) {
  WireSpec wp = prm.wire_p, wq = prm.wire_q;
  wp.grid = wq.grid = &prm.grid;
  size_t bytes = 0, at = 0;
  for (size_t g = 0; g + 1 < partition.size(); ++g) {
    at += static_cast<size_t>(partition[g]);
    bytes += encoded_bytes(wq, dims[at], n_cols, scalar_bytes) + encoded_bytes(wp, dims[at], n_cols, scalar_bytes);
  }
  return bytes;
}

double plan_group_elements(const std::vector<int64_t>& dims, int first, int end, int64_t n_cols,
                           const LayerPlanOptions& opt) {
  double total = 0;  // a model too large for any machine must still plan (and be refused), not overflow
  for (int l = first; l < end; ++l)
    for (const TensorPlan& t : plan_layer(dims, l, n_cols, opt)) total += double(t.rows) * double(t.cols);
  const int num_layers = static_cast<int>(dims.size()) - 1;
  const double n = static_cast<double>(n_cols);
  if (first > 0) total += 2 * double(dims[first]) * n;
  if (end < num_layers) total += double(dims[end]) * n;
  return total;
}

double plan_group_bytes(const std::vector<int64_t>& dims, int first, int end, int64_t n_cols, const AdmmParams& prm,
                        size_t scalar_bytes) {
  const double elems = plan_group_elements(dims, first, end, n_cols, plan_options(prm));
  return elems * static_cast<double>(scalar_bytes) +
         2.0 * static_cast<double>(plan_wire_buffer_bytes(dims, first, end, n_cols, prm, scalar_bytes));
}

}  // namespace pdadmm
