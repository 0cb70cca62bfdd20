// CudaOps<T>: the Ops interface on one GPU with its own compute stream, cuBLAS/cuSPARSE handles
// and reduction scratch. Every call is queued on stream(); calls that return a value to the host
// (reductions, download) synchronise that stream; encode sizes are the host's arithmetic and do
// not. Not thread-safe: one per group.
#pragma once
#include <cuda_runtime_api.h>

#include <array>
#include <vector>

#include "cuda/device_memory.h"
#include "cuda/handles.h"
#include "cuda/stream.h"
#include "host/backend/ops.h"

namespace pdadmm {

template <typename T>
class CudaOps final : public Ops<T> {
 public:
  // tf32: let SGEMM use TF32 tensor cores (off by default: full fp32, matches the CPU to ~1e-6).
  // group >= 0 is named in allocation errors ("... for a 4096x140 tensor of group 3").
  explicit CudaOps(int device, bool tf32 = false, int group = -1);
  ~CudaOps() override;
  CudaOps(const CudaOps&) = delete;
  CudaOps& operator=(const CudaOps&) = delete;

  std::string name() const override { return "cuda"; }
  int device() const { return device_; }
  // The compute stream: a blocking stream, so work on cudaStreamLegacy is ordered after it.
  cudaStream_t stream() const { return stream_.get(); }
  cublasHandle_t cublas() const { return cublas_.get(); }
  cusparseHandle_t cusparse() const { return cusparse_.get(); }

  Tensor<T> alloc(int64_t rows, int64_t cols) override;
  Tensor<uint8_t> alloc_bytes(int64_t n) override;
  void upload(const T* host, Tensor<T>& dst) override;
  void download(const Tensor<T>& src, T* host) override;
  void copy(const Tensor<T>& src, Tensor<T>& dst) override;
  void fill(Tensor<T>& x, T value) override;
  void bind_thread() override;
  void sync() override;

  void gemm(bool trans_a, bool trans_b, T alpha, const Tensor<T>& a, const Tensor<T>& b, T beta,
            Tensor<T>& c) override;
  void axpby(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) override;
  double dot(const Tensor<T>& x, const Tensor<T>& y) override;
  double sum_sq(const Tensor<T>& x) override;

  void add_bias(const Tensor<T>& wp, const Tensor<T>& b, Tensor<T>& out) override;
  void relu(Tensor<T>& x) override;
  double residual(const Tensor<T>& a, const Tensor<T>& z, Tensor<T>& r) override;
  void row_mean_diff(const Tensor<T>& z, const Tensor<T>& wp, Tensor<T>& b) override;
  void p_grad(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u, Tensor<T>& g) override;
  void z_hidden(const Tensor<T>& a, const Tensor<T>& q, bool prox_in_compare, Tensor<T>& z) override;
  void q_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& u, const Tensor<T>& z,
                Tensor<T>& q) override;
  DualStats dual_update(T rho, const Tensor<T>& p_next, const Tensor<T>& q, Tensor<T>& u) override;
  double relu_gap_sq(const Tensor<T>& q, const Tensor<T>& z) override;

  // Fused passes (kernels/fused_kernels.cuh): the steps' bits in one kernel each.
  double bias_residual(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& z, Tensor<T>& a,
                       Tensor<T>& r) override;
  void bias_z_hidden(const Tensor<T>& wp, const Tensor<T>& b, const Tensor<T>& q, bool prox_in_compare, Tensor<T>& a,
                     Tensor<T>& z) override;
  std::array<double, 2> dot2(const Tensor<T>& x, const Tensor<T>& y, const Tensor<T>& w) override;
  double axpby_sum_sq(T alpha, const Tensor<T>& x, T beta, Tensor<T>& y) override;
  double p_grad_sum_sq(T nu, T rho, const Tensor<T>& p, const Tensor<T>& q, const Tensor<T>& u,
                       Tensor<T>& g) override;
  DualStats q_dual_update(T nu, T rho, const Tensor<T>& p_next, const Tensor<T>& z, Tensor<T>& q,
                          Tensor<T>& u) override;

  double cross_entropy(CeMode mode, const Tensor<T>& z, const Tensor<T>& y) override;
  void softmax_minus(CeMode mode, const Tensor<T>& z, const Tensor<T>& y, Tensor<T>& g) override;
  void fista_step(T nu, T eta, T gamma, const Tensor<T>& a, const Tensor<T>& grad, Tensor<T>& zeta,
                  Tensor<T>& zeta_old, Tensor<T>& z) override;

  void project(const Grid& grid, Tensor<T>& x) override;
  size_t encode(const WireSpec& spec, Tensor<T>& x, Tensor<uint8_t>& out) override;
  void decode(const WireSpec& spec, const Tensor<uint8_t>& in, Tensor<T>& x) override;

 private:
  // Adds the per-block partials of `fields` sums (written by a reduction kernel with `blocks`
  // blocks), copies the totals to the host and waits for them.
  DualStats finish_sums(int blocks, int fields);
  // A reduction over n elements: zero sums for n == 0 (nothing launched), else launch(blocks) with
  // blocks = reduce_blocks(n) on this device, then finish_sums(blocks, fields).
  template <typename Launch>
  DualStats reduce(int64_t n, int fields, const Launch& launch);
  // What an allocation is for, in error messages: `thing`, plus the group when known.
  std::string alloc_what(const std::string& thing) const;
  // The grid's level table on the device; uploaded again only when the levels change.
  const double* device_levels(const Grid& grid);
  GridView device_view(const Grid& grid);  // grid.view() with the device level table

  int device_;
  int group_;
  Stream stream_;
  CublasHandle cublas_;
  CusparseHandle cusparse_;
  DeviceBuffer<double> partials_;  // 2 fields x kMaxReduceBlocks
  DeviceBuffer<double> sums_;      // 2 totals
  PinnedBuffer<double> host_sums_;
  DeviceBuffer<double> levels_;
  std::vector<double> levels_host_;  // what levels_ holds
};

extern template class CudaOps<float>;
extern template class CudaOps<double>;

}  // namespace pdadmm
