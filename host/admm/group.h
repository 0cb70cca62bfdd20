// A layer group: a contiguous run of layers owned by one thread (one GPU with CUDA), its Ops,
// its transport endpoint and the copies of the boundary tensors it shares with its neighbours.
// iterate() runs DESIGN.md's six steps for its layers, exchanging p and q at the boundaries.
#pragma once
#include <memory>
#include <vector>

#include "host/admm/layer.h"
#include "host/admm/params.h"
#include "host/backend/host_matrix.h"
#include "host/backend/ops.h"
#include "host/comm/transport.h"

namespace pdadmm {

struct GroupStats {
  double compute_s = 0;
  double wait_s = 0;
  size_t bytes_q_sent = 0;  // forward, to group g+1
  size_t bytes_p_sent = 0;  // backward, to group g-1
  StepCounts counts;
  // Objective pieces (filled when asked for): sums over this group's layers.
  double fit = 0, gap = 0, w2 = 0, ce = 0;
  // Boundary terms counted by the owner of q_l: Σ ||r_l||², Σ ||r_l||, Σ <u_l, r_l>.
  double r2 = 0, r_norm = 0, u_dot_r = 0;
  double w_fit = 0;  // Σ ||W p + b - z||² at the W steps' start (w_step), for the finiteness check
};

enum class ZlInit { Zeros, Labels };  // z_L at start: 0, or ±1 from the one-hot labels

// What a new solver takes over beside W and b (layer-wise growth: from the stage before), so that
// nothing it held is computed or copied again.
template <typename T>
struct SolverStart {
  HostMatrix<T> x_gram;  // layer 1's XᵀX as download(0, "gram") gave it for this x; empty: computed
  // Layer 1's pending deferred update (Solver::first_layer_w): its W is w1_scale W[0] + w1_c Xᵀ,
  // formed in place as download(0, "W") forms it; empty: W[0] as given.
  HostMatrix<T> w1_c;
  double w1_scale = 1;
  // Layers 2..L skip the initial forward pass (its W p, z, q): the caller uploads every one's p
  // (Solver::upload computes W p from it, once) and z, q as it likes before the first iteration.
  bool inputs_given = false;
};

template <typename T>
class Group {
 public:
  // Layers [first, end) of dims.size()-1 layers; dims = {d, n_1, ..., n_L = C}; N columns.
  Group(int id, int first, int end, const std::vector<int64_t>& dims, int64_t n_cols,
        std::unique_ptr<Ops<T>> ops, Endpoint* ep, const AdmmParams* prm);

  int id() const { return id_; }
  int first() const { return first_; }
  int end() const { return end_; }
  Ops<T>& ops() { return *ops_; }
  Layer<T>& layer(int l) { return layers_[l - first_]; }
  // This group's copy of u_{first-1} (the dual it shares with the previous group).
  const Tensor<T>& u_in_copy() const { return u_in_copy_; }
  // Boundary copies, writable for Solver::upload (state carried over by layer-wise growth).
  Tensor<T>& q_in_copy() { return q_in_copy_; }
  Tensor<T>& u_in_copy() { return u_in_copy_; }
  Tensor<T>& p_next_copy() { return p_next_copy_; }

  // Main thread, groups in order. `in` is this group's input activation (X for group 0, relu(z)
  // of the previous group's last layer otherwise; may be `out`), `out` gets its output activation.
  // start: what the solver takes over (Solver's constructor).
  void init(const HostMatrix<T>& in, HostMatrix<T>& out, const std::vector<HostMatrix<T>>& W,
            const std::vector<HostMatrix<T>>& b, const HostMatrix<T>& y, ZlInit zl, const SolverStart<T>& start);
  GroupStats iterate(long iter);
  // The objective's pieces at the current iterate (fit, gap, w2, ce), added to `st`.
  void add_terms(GroupStats& st);

 private:
  void exchange_p_send(GroupStats& st);
  void exchange_p_recv(GroupStats& st);
  void exchange_q_send(GroupStats& st);
  void exchange_q_recv_and_dual(GroupStats& st);

  int id_, first_, end_, num_layers_;
  int64_t n_cols_;
  std::unique_ptr<Ops<T>> ops_;
  Endpoint* ep_;
  const AdmmParams* prm_;
  std::vector<Layer<T>> layers_;
  Tensor<T> x_;                        // group 0: the fixed input X = p_0
  Tensor<T> q_in_copy_, u_in_copy_;    // q, u of layer first-1 (owned by group id-1)
  Tensor<T> p_next_copy_;              // p of layer end (owned by group id+1)
  Tensor<uint8_t> wire_out_, wire_in_;
};

extern template class Group<float>;
extern template class Group<double>;

}  // namespace pdadmm
