// Solver<T>: pdADMM-G over G layer groups, one thread each, connected by a Transport.
// Owns the groups; the caller (trainer, tests) drives iterations and reads weights back.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "host/admm/group.h"
#include "host/admm/layer_plan.h"
#include "host/admm/worker_pool.h"

namespace pdadmm {

struct SolverSpec {
  std::vector<int64_t> dims;  // {d, n_1, ..., n_{L-1}, C}
  int64_t n_cols = 0;         // N training columns
  std::vector<int> partition; // layers per group (sums to L); empty = `groups` even groups
  int groups = 1;
  ZlInit zl_init = ZlInit::Zeros;
};

struct IterationStats {
  double seconds = 0;        // the updates (and the groups' stats exchange), not the terms
  double terms_seconds = 0;  // the objective terms' pass, when asked for
  std::vector<GroupStats> groups;
  StepCounts counts;
  bool has_terms = false;
  double objective = 0;   // F = CE + ν/2 Σ fit + ν/2 Σ gap + μ/2 Σ ||W||²
  double lagrangian = 0;  // F + Σ <u, r> + ρ/2 Σ ||r||²
  double ce = 0;
  double r2 = 0;          // Σ_l ||r_l||²
  double residual = 0;    // Σ_l ||r_l||
  double u_dot_r = 0;     // Σ_l <u_l, r_l>, every iteration: overflowed duals show here first
  double w_fit = 0;       // Σ_l ||W_l p_l + b_l - z_l||² before the W steps, every iteration: overflowed W or p
  double nu = 0, rho = 0, mu = 0;  // in force during the iteration (the ρ schedule may raise them after)
  std::vector<size_t> boundary_bytes;  // per boundary g|g+1: q forward + p backward
};

// What later iterations read, as stored (for resuming a run): every layer's iterates and caches
// (the incremental W p, layer 1's W with its pending deferred update and tracking), the groups'
// boundary copies (the decoded values under a lossy -Q wire), the iteration counter and the
// ρ, ν, μ in force. Tensors are named "l<layer>.<what>" and "g<group>.<copy>".
struct LayerScalars {
  double w_scale = 1, w_sq = 0, w0_sq = 0, track_scale = 1;
  int w_pending = 0, tracking = 0;
};
template <typename T>
struct SolverState {
  long iteration = 0;
  double rho = 0, nu = 0, mu = 0;
  std::vector<LayerScalars> layers;
  std::vector<std::string> names;
  std::vector<HostMatrix<T>> tensors;
};

template <typename T>
class Solver {
 public:
  using OpsFactory = std::function<std::unique_ptr<Ops<T>>(int group)>;
  // x: d x N input (p_1), y: C x N one-hot labels, W/b: initial weights per layer.
  // transport may be null: an in-process transport is made. start: what a grown stage takes over
  // from the one before (SolverStart), used instead of computing it again.
  Solver(const SolverSpec& spec, const AdmmParams& prm, const HostMatrix<T>& x, const HostMatrix<T>& y,
         const std::vector<HostMatrix<T>>& W, const std::vector<HostMatrix<T>>& b, const OpsFactory& make_ops,
         std::unique_ptr<Transport> transport = nullptr, const SolverStart<T>& start = SolverStart<T>());
  ~Solver();

  IterationStats iterate(bool want_terms);
  // The objective terms of the current iterate into st, the last iterate(false)'s stats (collective):
  // for a run stopped after an iteration that was not a logged one.
  void add_terms(IterationStats& st);
  long iteration() const { return iter_; }
  int num_layers() const { return static_cast<int>(spec_.dims.size()) - 1; }
  int num_groups() const { return static_cast<int>(groups_.size()); }
  int64_t n_cols() const { return spec_.n_cols; }
  const std::vector<int>& partition() const { return partition_; }
  // Changing params between iterations is allowed (e.g. the ρ schedule); groups are idle then.
  AdmmParams& params() { return prm_; }

  // Copies a layer's state to the host (W, b, z, p, q, u by name; "a" = the cached W p + b the
  // last z update read; "gram" = layer 1's fixed XᵀX, 0 x 0 where its W steps keep none). For
  // checkpoints, tests, the ρ schedule's training loss and the next stage of layer-wise growth.
  HostMatrix<T> download(int layer, const char* what);
  // The same into m, reusing its memory when it has the tensor's shape (else m is replaced).
  void download(int layer, const char* what, HostMatrix<T>& m);
  // The same, but only into the process that runs group `to` (Transport::give; `to` may be past
  // this solver's groups): m is left 0 x 0 in every other process. For what the next stage needs
  // only where it runs the layer, which under mpirun no other process has to hold.
  void download_to(int layer, const char* what, int to, HostMatrix<T>& m);
  // Sets a layer's W, b, z, p, q or u (shape must match), keeping the W p cache and the
  // neighbour group's boundary copies in step. Between iterations only (layer-wise growth).
  // Only the process that runs the layer reads m (the others may pass an empty one).
  void upload(int layer, const char* what, const HostMatrix<T>& m);
  // The copy of u_l kept by the group that owns layer l+1, when l is a group boundary.
  HostMatrix<T> dual_copy(int layer);
  // Layer 1 (input X fixed) with a deferred W: from now on also keep s, D with W = s W_a + D Xᵀ,
  // W_a = its weights now, so that W X' for other columns X' follows from W_a X' and Xᵀ X'
  // (the trainer's logged evaluations). False, and nothing kept, when layer 1's W is not
  // deferred; an upload of its W ends the tracking.
  bool anchor_first_layer();
  // s and D (n_1 x N) since the anchor; false when not tracking.
  bool first_layer_track(double* scale, HostMatrix<T>* d);
  // Copies bytes from the process that runs `group` to every process (Transport::share; a no-op
  // in one process). For callers that gather per-group numbers, e.g. the benchmark's counters.
  void share(int group, void* data, size_t bytes) { transport_->share(group, data, bytes); }
  // Logits (C x N) of a plain forward pass over the training columns: layer 1's cached W X + b,
  // ReLU, then layers 2..L on their groups' own backends (the activation crosses group boundaries
  // through the host; under mpirun to the next group's process alone, the logits to every one).
  // The ρ schedule's training loss without copying any W (off a GPU, or to the host).
  HostMatrix<T> forward_train();
  // The same pass over other columns: a1 = layer 1's W x + b (n_1 x cols, before the ReLU), read
  // only by the process that runs group 0; cols must be given in every process.
  HostMatrix<T> forward_from(const HostMatrix<T>& a1, int64_t cols);
  // The state (collective under mpirun: every process gets all of it) and back: load_state sets
  // the tensors as they were saved, recomputing nothing, so the next iterate() continues the saved
  // run bit for bit; each process passes the whole state. Error when it does not fit the model.
  SolverState<T> save_state();
  void load_state(const SolverState<T>& s);
  // save_state in two collective parts, so that a writer holds one tensor at a time: the
  // scalars (names included, tensors left empty), then each tensor in turn passed to `each`
  // (in every process), in the order and shapes of the scalars' names and state_shapes().
  SolverState<T> state_scalars();
  std::vector<std::pair<int64_t, int64_t>> state_shapes() const;
  void state_tensors(const std::function<void(const HostMatrix<T>&)>& each);
  // load_state with the tensors read one at a time: s's scalars and names, the tensors' shapes, and
  // tensor(i) the values of the i-th (valid until the next call), asked for this process's groups only.
  void load_state(const SolverState<T>& s, const std::vector<std::pair<int64_t, int64_t>>& shapes,
                  const std::function<const T*(size_t)>& tensor);
  // Every layer's W and b; layers below `first` are left empty (0 x 0). With `to` >= 0 only the
  // process that runs group `to` receives them (download_to; the others' are left empty).
  void weights(std::vector<HostMatrix<T>>& W, std::vector<HostMatrix<T>>& b, int first = 0, int to = -1);
  // Layer 1's W as the layer keeps it, unformed: download(0, "W") = scale w0 + c Xᵀ when pending,
  // else w0; c (n_1 x N, zero when nothing is pending) is empty where the layer does not defer W.
  // w0 and c only in the process that runs group 0 (which runs layer 1 in every stage).
  struct FirstLayerW {
    HostMatrix<T> w0, c;
    double scale = 1;
    bool pending = false;
  };
  FirstLayerW first_layer_w();

 private:
  // F and the Lagrangian from the groups' summed pieces (st.ce, st.r2 and st.u_dot_r summed already).
  void set_objective(IterationStats& st, double fit, double gap, double w2) const;
  int group_of(int layer) const;
  void require_inputs() const;  // every p that SolverStart::inputs_given left to the caller is set
  HostMatrix<T> forward(const HostMatrix<T>* a1, int64_t cols);  // a1 null: layer 1's own a
  // The shape (rows, cols) `what` has in `layer` (0 x 0 where the layer keeps none), and a host
  // matrix of it.
  std::pair<int64_t, int64_t> tensor_shape(int layer, const std::string& what) const;
  HostMatrix<T> host_shaped(int layer, const std::string& what) const;
  // download's part in the process that runs the layer: m shaped and filled (elsewhere only shaped).
  void fill(int layer, const char* what, HostMatrix<T>& m);
  SolverSpec spec_;
  AdmmParams prm_;
  std::vector<int> partition_;
  std::vector<int> first_layer_;  // group g runs layers [first_layer_[g], first_layer_[g+1])
  std::unique_ptr<Transport> transport_;
  std::vector<std::unique_ptr<Group<T>>> groups_;  // null where another process runs the group
  std::unique_ptr<WorkerPool> pool_;
  long iter_ = 0;
  std::vector<char> unset_p_;  // per layer: p not yet uploaded (SolverStart::inputs_given; else empty)
};

extern template class Solver<float>;
extern template class Solver<double>;

}  // namespace pdadmm
