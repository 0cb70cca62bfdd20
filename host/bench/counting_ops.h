// CountingOps: an Ops<float> decorator for `pdadmm bench`. It forwards every call to the real
// backend and counts what the schedule actually asks for: 2·m·n·k FLOPs per GEMM, by shape.
// Optionally the groups share a token: a group takes it at its first op and keeps it until it
// communicates or syncs (release_token), so the groups compute one at a time, each uninterrupted
// between messages as on a device of its own, and each op's time is that group's alone
// (per-group compute without the contention of G threads on a few cores; docs/benchmarks.md).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "host/backend/ops.h"

namespace pdadmm {

struct GemmShape {
  int64_t m = 0, n = 0, k = 0;  // C is m x n, inner dimension k
  bool trans_a = false, trans_b = false;
  double flops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
  bool operator<(const GemmShape& o) const {
    return std::tie(m, n, k, trans_a, trans_b) < std::tie(o.m, o.n, o.k, o.trans_a, o.trans_b);
  }
};

struct OpCounters {
  double gemm_flops = 0;
  long gemm_calls = 0;
  double busy_s = 0;                  // time inside ops (only when timing is on)
  double gemm_s = 0;                  // the part of busy_s spent in GEMMs
  // CPU time of the calling thread inside ops: with one thread per group, the op's cost without
  // the time other processes held the core (the machine is shared).
  double busy_cpu_s = 0;
  std::map<GemmShape, long> shapes;   // calls per GEMM shape
  int64_t alloc_elements = 0;         // floats allocated (what `info`'s memory plan must match)
  int64_t alloc_bytes = 0;            // byte tensors allocated (the wire buffers)
};

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID).
double thread_cpu_seconds();

class CountingOps final : public Ops<float> {
 public:
  // time_ops: sum the time spent inside ops into busy_s (with a token, after a backend sync).
  CountingOps(std::unique_ptr<Ops<float>> inner, bool time_ops);
  // token: shared by all groups to run their ops one at a time (null: no serialisation). Set it
  // once the solver is built: the constructor runs every group's setup on one thread.
  void set_token(std::mutex* token) { token_ = token; }
  std::string name() const override { return "counting(" + inner_->name() + ")"; }
  // Read and reset between iterations, while the group's thread is idle.
  OpCounters& counters() { return c_; }
  // Gives the token back (before a send or recv, and after construction on the main thread).
  void release_token() {
    if (held_.owns_lock()) held_.unlock();
  }

  Tensor<float> alloc(int64_t rows, int64_t cols) override {
    c_.alloc_elements += rows * cols;
    return inner_->alloc(rows, cols);
  }
  Tensor<uint8_t> alloc_bytes(int64_t n) override {
    c_.alloc_bytes += n;
    return inner_->alloc_bytes(n);
  }
  void upload(const float* host, Tensor<float>& dst) override;
  void download(const Tensor<float>& src, float* host) override;
  void copy(const Tensor<float>& src, Tensor<float>& dst) override;
  void fill(Tensor<float>& x, float value) override;
  void bind_thread() override { inner_->bind_thread(); }
  int team_threads() const override { return inner_->team_threads(); }
  void sync() override;

  void gemm(bool trans_a, bool trans_b, float alpha, const Tensor<float>& a, const Tensor<float>& b, float beta,
            Tensor<float>& c) override;
  void axpby(float alpha, const Tensor<float>& x, float beta, Tensor<float>& y) override;
  double dot(const Tensor<float>& x, const Tensor<float>& y) override;
  double sum_sq(const Tensor<float>& x) override;

  void add_bias(const Tensor<float>& wp, const Tensor<float>& b, Tensor<float>& out) override;
  void relu(Tensor<float>& x) override;
  double residual(const Tensor<float>& a, const Tensor<float>& z, Tensor<float>& r) override;
  void row_mean_diff(const Tensor<float>& z, const Tensor<float>& wp, Tensor<float>& b) override;
  void p_grad(float nu, float rho, const Tensor<float>& p, const Tensor<float>& q, const Tensor<float>& u,
              Tensor<float>& g) override;
  void z_hidden(const Tensor<float>& a, const Tensor<float>& q, bool prox_in_compare, Tensor<float>& z) override;
  void q_update(float nu, float rho, const Tensor<float>& p_next, const Tensor<float>& u, const Tensor<float>& z,
                Tensor<float>& q) override;
  DualStats dual_update(float rho, const Tensor<float>& p_next, const Tensor<float>& q, Tensor<float>& u) override;
  double relu_gap_sq(const Tensor<float>& q, const Tensor<float>& z) override;

  double bias_residual(const Tensor<float>& wp, const Tensor<float>& b, const Tensor<float>& z, Tensor<float>& a,
                       Tensor<float>& r) override;
  void bias_z_hidden(const Tensor<float>& wp, const Tensor<float>& b, const Tensor<float>& q, bool prox_in_compare,
                     Tensor<float>& a, Tensor<float>& z) override;
  std::array<double, 2> dot2(const Tensor<float>& x, const Tensor<float>& y, const Tensor<float>& w) override;
  double axpby_sum_sq(float alpha, const Tensor<float>& x, float beta, Tensor<float>& y) override;
  double p_grad_sum_sq(float nu, float rho, const Tensor<float>& p, const Tensor<float>& q, const Tensor<float>& u,
                       Tensor<float>& g) override;
  DualStats q_dual_update(float nu, float rho, const Tensor<float>& p_next, const Tensor<float>& z, Tensor<float>& q,
                          Tensor<float>& u) override;

  double cross_entropy(CeMode mode, const Tensor<float>& z, const Tensor<float>& y) override;
  void softmax_minus(CeMode mode, const Tensor<float>& z, const Tensor<float>& y, Tensor<float>& g) override;
  void fista_step(float nu, float eta, float gamma, const Tensor<float>& a, const Tensor<float>& grad,
                  Tensor<float>& zeta, Tensor<float>& zeta_old, Tensor<float>& z) override;

  void project(const Grid& grid, Tensor<float>& x) override;
  size_t encode(const WireSpec& spec, Tensor<float>& x, Tensor<uint8_t>& out) override;
  void decode(const WireSpec& spec, const Tensor<uint8_t>& in, Tensor<float>& x) override;

 private:
  template <typename F>
  auto timed(F&& f) -> decltype(f());
  std::unique_ptr<Ops<float>> inner_;
  std::mutex* token_ = nullptr;
  std::unique_lock<std::mutex> held_;  // the token, while this group computes
  bool time_ops_;
  OpCounters c_;
};

}  // namespace pdadmm
