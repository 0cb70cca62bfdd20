// pdadmm_gpu_bench: achieved memory bandwidth of the ADMM element-wise kernels and the wire
// codecs, the fused passes against the steps they replace, and SGEMM TFLOPS for 4096x4096xN, on GPU 0 through CudaOps; with two or more GPUs also
// the send/recv bandwidth of the transport between GPU 0 and GPU 1 (NCCL when built). Writes a
// JSON report to --out, else $OUT/gpu_check.json, else ./gpu_check.json. Used by tools/gpu_check.sh.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_ops.h"
#include "cuda/stream.h"
#include "host/io/error.h"
#include "host/quant/grid.h"

namespace pdadmm {
namespace {

// Milliseconds per call of fn on ops' stream (events around `iters` calls after a warm-up).
double time_ms(CudaOps<float>& ops, int iters, const std::function<void()>& fn) {
  for (int i = 0; i < 3; ++i) fn();
  ops.sync();
  Event start(ops.device(), true), stop(ops.device(), true);
  start.record(ops.stream());
  for (int i = 0; i < iters; ++i) fn();
  stop.record(ops.stream());
  stop.sync();
  return stop.elapsed_ms_since(start) / iters;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Microseconds per call of each fused pass and of the steps it replaces (Ops' defaults), at a
// launch-bound shape (Cora's 500 hidden x 140 training nodes) and a bandwidth-bound one. One JSON
// object per pass and shape.
std::vector<std::string> fused_vs_steps(CudaOps<float>& ops, int64_t rows, int64_t cols, int iters) {
  Tensor<float> wp = ops.alloc(rows, cols), z = ops.alloc(rows, cols), q = ops.alloc(rows, cols),
                p = ops.alloc(rows, cols), u = ops.alloc(rows, cols), a = ops.alloc(rows, cols),
                r = ops.alloc(rows, cols), b = ops.alloc(rows, 1);
  for (Tensor<float>* t : {&wp, &z, &q, &p, &u, &b}) ops.fill(*t, 0.5f);
  Ops<float>& steps = ops;
  struct Pass {
    const char* name;
    std::function<void()> fused, unfused;
  };
  const std::vector<Pass> passes = {
      {"bias_residual", [&] { ops.bias_residual(wp, b, z, a, r); },
       [&] { steps.Ops<float>::bias_residual(wp, b, z, a, r); }},
      {"bias_z_hidden", [&] { ops.bias_z_hidden(wp, b, q, true, a, z); },
       [&] { steps.Ops<float>::bias_z_hidden(wp, b, q, true, a, z); }},
      {"dot2", [&] { ops.dot2(wp, z, q); }, [&] { steps.Ops<float>::dot2(wp, z, q); }},
      {"axpby_sum_sq", [&] { ops.axpby_sum_sq(0.0f, wp, 1.0f, r); },
       [&] { steps.Ops<float>::axpby_sum_sq(0.0f, wp, 1.0f, r); }},
      {"p_grad_sum_sq", [&] { ops.p_grad_sum_sq(0.0f, 0.0f, p, q, u, r); },
       [&] { steps.Ops<float>::p_grad_sum_sq(0.0f, 0.0f, p, q, u, r); }},
      {"q_dual_update", [&] { ops.q_dual_update(1.0f, 1.0f, p, z, q, u); },
       [&] { steps.Ops<float>::q_dual_update(1.0f, 1.0f, p, z, q, u); }},
  };
  std::vector<std::string> out;
  std::printf("fused passes against their steps (%lld x %lld, fp32; host waits for sums included):\n",
              static_cast<long long>(rows), static_cast<long long>(cols));
  for (const Pass& pass : passes) {
    const double f = 1e3 * time_ms(ops, iters, pass.fused), s = 1e3 * time_ms(ops, iters, pass.unfused);
    std::printf("  %-16s %9.2f us  steps %9.2f us  %5.2fx\n", pass.name, f, s, s / f);
    out.push_back(std::string("{\"name\": \"") + pass.name + "\", \"rows\": " + std::to_string(rows) +
                  ", \"cols\": " + std::to_string(cols) + ", \"fused_us\": " + fmt("%.2f", f) +
                  ", \"steps_us\": " + fmt("%.2f", s) + "}");
  }
  return out;
}

// Group 0 on GPU 0 sends `messages` messages of `bytes` to group 1 on GPU 1 through the same
// transport training uses; the receiver times them after one warm-up message. Returns one JSON object.
std::string p2p_bandwidth(size_t bytes, int messages) {
  std::vector<std::unique_ptr<Ops<float>>> ops;
  ops.push_back(make_cuda_ops(0));
  ops.push_back(make_cuda_ops(1));
  auto transport = make_cuda_transport_for_ops({ops[0].get(), ops[1].get()});
  const int64_t n = static_cast<int64_t>(bytes / sizeof(float));
  double seconds = 0;
  std::exception_ptr errors[2];
  auto body = [&](int g) {
    try {
      Ops<float>& o = *ops[g];
      o.bind_thread();
      Tensor<float> buf = o.alloc(1, n);
      Endpoint& ep = transport->endpoint(g);
      std::chrono::steady_clock::time_point t0;
      for (int k = 0; k <= messages; ++k) {
        if (g == 0) {
          ep.send(1, Tag::Q, buf.data(), buf.bytes());
        } else {
          ep.recv(0, Tag::Q, buf.data(), buf.bytes());
          o.sync();
          if (k == 0) t0 = std::chrono::steady_clock::now();
        }
      }
      o.sync();
      if (g == 1) seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (...) {
      errors[g] = std::current_exception();
      transport->shutdown();
    }
  };
  std::thread receiver(body, 1);
  body(0);
  receiver.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  const double gbs = static_cast<double>(bytes) * messages / (seconds * 1e9);
  std::printf("  %-6s %10zu bytes x %d  %8.1f GB/s\n", cuda_transport_kind(*transport).c_str(), bytes, messages, gbs);
  return "{\"transport\": \"" + cuda_transport_kind(*transport) + "\", \"bytes\": " + std::to_string(bytes) +
         ", \"messages\": " + std::to_string(messages) + ", \"seconds\": " + fmt("%.6f", seconds) +
         ", \"gb_per_s\": " + fmt("%.2f", gbs) + "}";
}

int run(int argc, char** argv) {
  std::string out_path;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out_path = argv[++i];
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else {
      std::fprintf(stderr, "usage: pdadmm_gpu_bench [--out FILE] [--quick]\n");
      return 2;
    }
  }
  if (out_path.empty()) {
    const char* out_dir = std::getenv("OUT");
    out_path = out_dir && *out_dir ? std::string(out_dir) + "/gpu_check.json" : "gpu_check.json";
  }
  if (cuda_device_count() == 0) throw Error("no CUDA device is visible (" + cuda_unavailable_reason() + ")");
  const CudaDeviceInfo dev = cuda_devices().at(0);
  std::printf("device 0: %s (sm_%d%d, %.1f GiB)\n", dev.name.c_str(), dev.cc_major, dev.cc_minor,
              dev.total_bytes / 1073741824.0);

  CudaOps<float> ops(0, /*tf32=*/false);
  ops.bind_thread();
  const int64_t rows = 4096, cols = quick ? 2048 : 16384;  // 8M or 64M elements
  const int64_t n = rows * cols;
  const int iters = quick ? 5 : 20;
  std::vector<float> host(static_cast<size_t>(n));
  uint64_t state = 12345;
  auto next = [&] {  // xorshift: fast, reproducible inputs in [-1, 1)
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return static_cast<float>((state >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0);
  };
  Tensor<float> a = ops.alloc(rows, cols), q = ops.alloc(rows, cols), z = ops.alloc(rows, cols),
                u = ops.alloc(rows, cols), p = ops.alloc(rows, cols), x = ops.alloc(rows, cols);
  for (Tensor<float>* t : {&a, &q, &z, &u, &p, &x}) {
    for (auto& v : host) v = next();
    ops.upload(host.data(), *t);
  }
  const double fb = static_cast<double>(n) * sizeof(float);
  std::vector<std::string> kernels;
  auto report = [&](const char* name, double bytes, double ms) {
    const double gbs = bytes / (ms * 1e6);
    std::printf("  %-16s %8.3f ms  %8.1f GB/s\n", name, ms, gbs);
    kernels.push_back(std::string("{\"name\": \"") + name + "\", \"elements\": " + std::to_string(n) +
                      ", \"bytes\": " + fmt("%.0f", bytes) + ", \"ms\": " + fmt("%.4f", ms) +
                      ", \"gb_per_s\": " + fmt("%.1f", gbs) + "}");
  };
  std::printf("element-wise (%lld elements, fp32):\n", static_cast<long long>(n));
  report("copy (reference)", 2 * fb, time_ms(ops, iters, [&] { ops.copy(a, x); }));
  report("z_hidden", 4 * fb, time_ms(ops, iters, [&] { ops.z_hidden(a, q, true, z); }));
  report("q_update", 4 * fb, time_ms(ops, iters, [&] { ops.q_update(1.0f, 1.0f, p, u, z, q); }));
  report("p_grad", 5 * fb,  // reads g, p, q, u; writes g
         time_ms(ops, iters, [&] { ops.p_grad(1.0f, 1.0f, p, q, u, x); }));
  // dual_update returns its sums to the host: the time includes that round trip.
  report("dual_update", 4 * fb, time_ms(ops, iters, [&] { ops.dual_update(0.01f, p, q, u); }));
  report("residual", 3 * fb, time_ms(ops, iters, [&] { ops.residual(a, z, x); }));
  const Grid grid = make_uniform_grid(-1.0, 2.0 / 255, 256);
  report("project", 2 * fb, time_ms(ops, iters, [&] { ops.project(grid, x); }));
  const WireSpec fp32{WireFormat::Fp32, nullptr};
  Tensor<uint8_t> wire = ops.alloc_bytes(static_cast<int64_t>(fb));
  report("encode_fp32", 2 * fb, time_ms(ops, iters, [&] { ops.encode(fp32, x, wire); }));
  report("decode_fp32", 2 * fb, time_ms(ops, iters, [&] { ops.decode(fp32, wire, x); }));
  for (WireFormat f : {WireFormat::Fp16, WireFormat::Bf16, WireFormat::Int8, WireFormat::Codes}) {
    const WireSpec spec{f, &grid};
    try {
      const double wb = static_cast<double>(encoded_bytes(spec, rows, cols, sizeof(float)));
      const std::string enc = std::string("encode_") + wire_name(f), dec = std::string("decode_") + wire_name(f);
      report(enc.c_str(), 2 * fb + wb, time_ms(ops, iters, [&] { ops.encode(spec, x, wire); }));
      report(dec.c_str(), fb + wb, time_ms(ops, iters, [&] { ops.decode(spec, wire, x); }));
    } catch (const Error& e) {
      std::printf("  %-16s skipped: %s\n", wire_name(f), e.what());
    }
  }
  for (Tensor<float>* t : {&a, &q, &z, &u, &p, &x}) *t = Tensor<float>();  // free before the GEMMs
  wire = Tensor<uint8_t>();

  std::vector<std::string> fused = fused_vs_steps(ops, 500, 140, 200);
  for (const std::string& j : fused_vs_steps(ops, 4096, quick ? 2048 : 16384, iters)) fused.push_back(j);

  std::vector<std::string> gemms;
  std::printf("SGEMM C(4096 x N) = W(4096 x 4096) P(4096 x N):\n");
  const int64_t m = 4096, k = 4096;
  // Random operands, as the element-wise kernels': constant ones flip almost no bits, and a GPU
  // holds higher clocks at the lower power, which overstated the TFLOPS.
  std::vector<float> operand(static_cast<size_t>(m * k));
  for (auto& v : operand) v = next();
  for (bool tf32 : {false, true}) {
    CudaOps<float> g(0, tf32);
    Tensor<float> w = g.alloc(m, k);
    g.upload(operand.data(), w);
    for (int64_t nn : {int64_t{256}, int64_t{1024}, int64_t{4096}}) {
      Tensor<float> pn = g.alloc(k, nn), cn = g.alloc(m, nn);
      g.upload(operand.data() + (m * k - k * nn), pn);  // another slice than w's start
      const double ms = time_ms(g, quick ? 3 : 10, [&] { g.gemm(false, false, 1.0f, w, pn, 0.0f, cn); });
      const double tflops = 2.0 * m * nn * k / (ms * 1e9);
      std::printf("  N=%-5lld tf32=%d %8.3f ms  %7.2f TFLOPS\n", static_cast<long long>(nn), tf32 ? 1 : 0, ms, tflops);
      gemms.push_back("{\"m\": " + std::to_string(m) + ", \"n\": " + std::to_string(nn) + ", \"k\": " +
                      std::to_string(k) + ", \"tf32\": " + (tf32 ? "true" : "false") + ", \"ms\": " +
                      fmt("%.4f", ms) + ", \"tflops\": " + fmt("%.2f", tflops) + "}");
    }
  }

  std::vector<std::string> p2p;
  if (cuda_device_count() >= 2) {
    std::printf("send/recv GPU 0 -> GPU 1:\n");
    // 4096 x 140 floats: one boundary tensor of the 4096-neuron model on Cora's 140 columns.
    for (size_t bytes : {size_t{4096} * 140 * 4, size_t{64} << 20})
      p2p.push_back(p2p_bandwidth(bytes, quick ? 5 : 50));
  } else {
    std::printf("send/recv: skipped (one GPU)\n");
  }

  FILE* f = std::fopen(out_path.c_str(), "w");
  if (!f) throw Error("cannot write " + out_path);
  std::fprintf(f, "{\n  \"device\": {\"name\": \"%s\", \"cc\": \"%d.%d\", \"total_bytes\": %zu},\n", dev.name.c_str(),
               dev.cc_major, dev.cc_minor, dev.total_bytes);
  std::fprintf(f, "  \"elementwise\": [\n");
  for (size_t i = 0; i < kernels.size(); ++i)
    std::fprintf(f, "    %s%s\n", kernels[i].c_str(), i + 1 < kernels.size() ? "," : "");
  std::fprintf(f, "  ],\n  \"fused\": [\n");
  for (size_t i = 0; i < fused.size(); ++i)
    std::fprintf(f, "    %s%s\n", fused[i].c_str(), i + 1 < fused.size() ? "," : "");
  std::fprintf(f, "  ],\n  \"sgemm\": [\n");
  for (size_t i = 0; i < gemms.size(); ++i)
    std::fprintf(f, "    %s%s\n", gemms[i].c_str(), i + 1 < gemms.size() ? "," : "");
  std::fprintf(f, "  ],\n  \"p2p\": [\n");
  for (size_t i = 0; i < p2p.size(); ++i) std::fprintf(f, "    %s%s\n", p2p[i].c_str(), i + 1 < p2p.size() ? "," : "");
  std::fprintf(f, "  ]\n}\n");
  std::fclose(f);
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}

}  // namespace
}  // namespace pdadmm

int main(int argc, char** argv) {
  try {
    return pdadmm::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pdadmm_gpu_bench: %s\n", e.what());
    return 1;
  }
}
