// CountingOps: forward, count GEMM FLOPs, optionally serialise and time.
#include "host/bench/counting_ops.h"

#include <time.h>

#include <chrono>
#include <type_traits>

namespace pdadmm {

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

CountingOps::CountingOps(std::unique_ptr<Ops<float>> inner, bool time_ops)
    : inner_(std::move(inner)), time_ops_(time_ops) {}

template <typename F>
auto CountingOps::timed(F&& f) -> decltype(f()) {
  if (!token_ && !time_ops_) return f();
  if (token_ && !held_.owns_lock()) held_ = std::unique_lock<std::mutex>(*token_);
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = time_ops_ ? thread_cpu_seconds() : 0;
  // With a token the op must be finished before the next group's op starts (CUDA is asynchronous).
  auto stop = [&] {
    if (token_) inner_->sync();
    if (!time_ops_) return;
    c_.busy_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    c_.busy_cpu_s += thread_cpu_seconds() - cpu0;
  };
  try {
    if constexpr (std::is_void_v<decltype(f())>) {
      f();
      stop();
    } else {
      auto r = f();
      stop();
      return r;
    }
  } catch (...) {
    release_token();  // the other groups must not wait forever on a failed one
    throw;
  }
}

void CountingOps::upload(const float* host, Tensor<float>& dst) {
  timed([&] { inner_->upload(host, dst); });
}
void CountingOps::download(const Tensor<float>& src, float* host) {
  timed([&] { inner_->download(src, host); });
}
void CountingOps::copy(const Tensor<float>& src, Tensor<float>& dst) {
  timed([&] { inner_->copy(src, dst); });
}
void CountingOps::fill(Tensor<float>& x, float value) {
  timed([&] { inner_->fill(x, value); });
}
void CountingOps::sync() {
  timed([&] { inner_->sync(); });
  release_token();  // the group is done with this stretch of work (end of iteration, or a send)
}

void CountingOps::gemm(bool ta, bool tb, float alpha, const Tensor<float>& a, const Tensor<float>& b, float beta,
                       Tensor<float>& c) {
  GemmShape s;
  s.m = ta ? a.cols() : a.rows();
  s.k = ta ? a.rows() : a.cols();
  s.n = tb ? b.rows() : b.cols();
  s.trans_a = ta;
  s.trans_b = tb;
  const double busy0 = c_.busy_s;
  timed([&] { inner_->gemm(ta, tb, alpha, a, b, beta, c); });
  c_.gemm_s += c_.busy_s - busy0;
  c_.gemm_flops += s.flops();
  c_.gemm_calls++;
  c_.shapes[s]++;
}
void CountingOps::axpby(float alpha, const Tensor<float>& x, float beta, Tensor<float>& y) {
  timed([&] { inner_->axpby(alpha, x, beta, y); });
}
double CountingOps::dot(const Tensor<float>& x, const Tensor<float>& y) {
  return timed([&] { return inner_->dot(x, y); });
}
double CountingOps::sum_sq(const Tensor<float>& x) {
  return timed([&] { return inner_->sum_sq(x); });
}

void CountingOps::add_bias(const Tensor<float>& wp, const Tensor<float>& b, Tensor<float>& out) {
  timed([&] { inner_->add_bias(wp, b, out); });
}
void CountingOps::relu(Tensor<float>& x) {
  timed([&] { inner_->relu(x); });
}
double CountingOps::residual(const Tensor<float>& a, const Tensor<float>& z, Tensor<float>& r) {
  return timed([&] { return inner_->residual(a, z, r); });
}
void CountingOps::row_mean_diff(const Tensor<float>& z, const Tensor<float>& wp, Tensor<float>& b) {
  timed([&] { inner_->row_mean_diff(z, wp, b); });
}
void CountingOps::p_grad(float nu, float rho, const Tensor<float>& p, const Tensor<float>& q, const Tensor<float>& u,
                         Tensor<float>& g) {
  timed([&] { inner_->p_grad(nu, rho, p, q, u, g); });
}
void CountingOps::z_hidden(const Tensor<float>& a, const Tensor<float>& q, bool prox_in_compare, Tensor<float>& z) {
  timed([&] { inner_->z_hidden(a, q, prox_in_compare, z); });
}
void CountingOps::q_update(float nu, float rho, const Tensor<float>& p_next, const Tensor<float>& u,
                           const Tensor<float>& z, Tensor<float>& q) {
  timed([&] { inner_->q_update(nu, rho, p_next, u, z, q); });
}
DualStats CountingOps::dual_update(float rho, const Tensor<float>& p_next, const Tensor<float>& q, Tensor<float>& u) {
  return timed([&] { return inner_->dual_update(rho, p_next, q, u); });
}
double CountingOps::relu_gap_sq(const Tensor<float>& q, const Tensor<float>& z) {
  return timed([&] { return inner_->relu_gap_sq(q, z); });
}

double CountingOps::bias_residual(const Tensor<float>& wp, const Tensor<float>& b, const Tensor<float>& z,
                                  Tensor<float>& a, Tensor<float>& r) {
  return timed([&] { return inner_->bias_residual(wp, b, z, a, r); });
}
void CountingOps::bias_z_hidden(const Tensor<float>& wp, const Tensor<float>& b, const Tensor<float>& q,
                                bool prox_in_compare, Tensor<float>& a, Tensor<float>& z) {
  timed([&] { inner_->bias_z_hidden(wp, b, q, prox_in_compare, a, z); });
}
std::array<double, 2> CountingOps::dot2(const Tensor<float>& x, const Tensor<float>& y, const Tensor<float>& w) {
  return timed([&] { return inner_->dot2(x, y, w); });
}
double CountingOps::axpby_sum_sq(float alpha, const Tensor<float>& x, float beta, Tensor<float>& y) {
  return timed([&] { return inner_->axpby_sum_sq(alpha, x, beta, y); });
}
double CountingOps::p_grad_sum_sq(float nu, float rho, const Tensor<float>& p, const Tensor<float>& q,
                                  const Tensor<float>& u, Tensor<float>& g) {
  return timed([&] { return inner_->p_grad_sum_sq(nu, rho, p, q, u, g); });
}
DualStats CountingOps::q_dual_update(float nu, float rho, const Tensor<float>& p_next, const Tensor<float>& z,
                                     Tensor<float>& q, Tensor<float>& u) {
  return timed([&] { return inner_->q_dual_update(nu, rho, p_next, z, q, u); });
}

double CountingOps::cross_entropy(CeMode mode, const Tensor<float>& z, const Tensor<float>& y) {
  return timed([&] { return inner_->cross_entropy(mode, z, y); });
}
void CountingOps::softmax_minus(CeMode mode, const Tensor<float>& z, const Tensor<float>& y, Tensor<float>& g) {
  timed([&] { inner_->softmax_minus(mode, z, y, g); });
}
void CountingOps::fista_step(float nu, float eta, float gamma, const Tensor<float>& a, const Tensor<float>& grad,
                             Tensor<float>& zeta, Tensor<float>& zeta_old, Tensor<float>& z) {
  timed([&] { inner_->fista_step(nu, eta, gamma, a, grad, zeta, zeta_old, z); });
}

void CountingOps::project(const Grid& grid, Tensor<float>& x) {
  timed([&] { inner_->project(grid, x); });
}
size_t CountingOps::encode(const WireSpec& spec, Tensor<float>& x, Tensor<uint8_t>& out) {
  return timed([&] { return inner_->encode(spec, x, out); });
}
void CountingOps::decode(const WireSpec& spec, const Tensor<uint8_t>& in, Tensor<float>& x) {
  timed([&] { inner_->decode(spec, in, x); });
}

}  // namespace pdadmm
