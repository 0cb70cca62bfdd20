// Whole training runs on "backend": "cuda" against the CPU backend: the same test accuracy
// (within 0.5 points) on a small synthetic problem, and bit-identical copies of every boundary
// dual across the device-local transport (groups sharing GPU 0) and across NCCL (one GPU per
// group, with two or more GPUs). Skips with the reason when no GPU is visible.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "cuda/cuda_backend.h"
#include "host/admm/trainer.h"
#include "host/io/error.h"
#include "host/quant/grid.h"
#include "tests/reference_check.h"
#include "tests/resume_util.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

Config small_config(const std::vector<std::string>& sets) {
  // 1000 test nodes (the default synthetic graph): 0.5 points is 5 nodes.
  std::vector<std::string> all = {"model.layers=3",      "model.hidden=64",          "admm.iterations=40",
                                  "output.log_every=40", "output.progress=\"off\"", "output.checkpoint=false"};
  all.insert(all.end(), sets.begin(), sets.end());
  // The defaults are configs/synthetic.json; no file is read, so the binary runs from any folder
  // (tools/gpu_check.sh runs it from a build carried to the GPU machine).
  Config c = parse_config(nlohmann::json::object(), all);
  c.threads = 1;
  return c;
}

class CudaTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible: " << cuda_unavailable_reason();
  }
};

TEST_F(CudaTraining, SameAccuracyAsTheCpu) {
  for (const char* groups : {"groups=1", "groups=3"}) {
    SCOPED_TRACE(groups);
    Config cpu = small_config({groups});
    cpu.output.dir = ::testing::TempDir() + "/pdadmm_cuda_eq_cpu";
    Config gpu = small_config({groups, "backend=\"cuda\""});
    gpu.output.dir = ::testing::TempDir() + "/pdadmm_cuda_eq_gpu";
    std::ostringstream log_cpu, log_gpu;
    const TrainSummary sc = train(cpu, log_cpu);
    const TrainSummary sg = train(gpu, log_gpu);
    EXPECT_GE(sc.scores.test.acc, 0.6) << "the CPU run must learn for the comparison to mean anything\n" << log_cpu.str();
    EXPECT_LE(std::fabs(sg.scores.test.acc - sc.scores.test.acc), 0.005)
        << "cpu " << sc.scores.test.acc << " gpu " << sg.scores.test.acc << "\n" << log_gpu.str();
    EXPECT_LE(std::fabs(sg.scores.val.acc - sc.scores.val.acc), 0.005);
    EXPECT_TRUE(std::isfinite(sg.last_objective));
  }
}

// Resume on the GPU: a solver loading another's state (downloaded from and uploaded to the
// devices) continues bit for bit, in one group and in three (groups sharing the GPUs there are).
TEST_F(CudaTraining, ResumeContinuesBitForBit) {
  resume_check::expect_resume_is_exact({"backend=\"cuda\""}, {4});
  resume_check::expect_resume_is_exact({"backend=\"cuda\""}, {1, 1, 2});
}

// 4 layers split by `partition`, group g on devices[g]: both copies of u at every boundary must
// agree bit for bit after many iterations, whatever the wire format of q. With q as grid codes
// (-Q) the boundary q is rounded onto the grid only by the encoder (q_step leaves it to it): every
// q must still be on the grid.
void expect_dual_copies_identical(const std::vector<int>& partition, const std::vector<int>& devices,
                                  const std::string& wire_q) {
  std::vector<std::string> sets = {"model.layers=4", "model.hidden=32", "backend=\"cuda\"", "admm.wire.q=\"" + wire_q + "\""};
  if (wire_q == "codes")
    sets.insert(sets.end(), {"algorithm=\"pdadmm-g-q\"", "admm.quantize=\"q\"",
                             "admm.grid={\"min\": 0, \"max\": 2, \"levels\": 64}"});
  Config c = small_config(sets);
  c.partition = partition;
  c.groups = static_cast<int>(partition.size());
  c.devices = devices;
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W0, b0;
  init_weights(p.dims, c.model.init_std, 5, W0, b0);
  auto solver = make_solver(c, p, W0, b0);
  for (int i = 0; i < 30; ++i) solver->iterate(i % 10 == 0);
  int last = -1;
  for (size_t g = 0; g + 1 < partition.size(); ++g) {
    last += partition[g];  // the last layer of group g: its u is copied in group g + 1
    const HostMatrix<float> own = solver->download(last, "u"), copy = solver->dual_copy(last);
    EXPECT_EQ(own.data, copy.data) << "boundary after layer " << last;
    if (wire_q == "codes") {
      const HostMatrix<float> q = solver->download(last, "q");
      HostMatrix<float> projected = q;
      project_host(c.admm.grid, projected.data.data(), projected.size());
      EXPECT_EQ(projected.data, q.data) << "q of layer " << last << " is off the grid";
    }
    double norm = 0;
    for (float v : own.data) norm += double(v) * v;
    EXPECT_GT(norm, 0) << "the dual must have moved for this check to mean anything";
  }
}

// The ρ schedule's loss and logged evaluations on the GPU: the solver's forward passes on the groups'
// devices against the host's with the downloaded weights.
TEST_F(CudaTraining, ForwardPassesOnTheGroupsMatchTheHost) {
  Config c = small_config({"model.layers=5", "model.hidden=24", "backend=\"cuda\""});
  c.partition = {1, 2, 2};
  c.groups = 3;
  test::expect_forward_passes_match_the_host(c, 1e-4);  // cuBLAS rounds differently
}

TEST_F(CudaTraining, DualCopiesBitIdenticalAcrossTheDeviceTransport) {
  for (const char* wire : {"fp32", "bf16", "int8", "codes"}) {
    SCOPED_TRACE(wire);
    expect_dual_copies_identical({1, 1, 2}, {0, 0, 0}, wire);
  }
}

// NCCL carries the messages when every group has a GPU of its own.
TEST_F(CudaTraining, DualCopiesBitIdenticalAcrossNccl) {
  const int n = cuda_device_count();
  if (n < 2) GTEST_SKIP() << "NCCL needs two GPUs, " << n << " visible";
  for (const char* wire : {"fp32", "fp16"}) {
    SCOPED_TRACE(wire);
    if (n >= 3) {
      expect_dual_copies_identical({1, 1, 2}, {0, 1, 2}, wire);
    } else {
      expect_dual_copies_identical({2, 2}, {0, 1}, wire);
    }
  }
}

// The CUDA backend in reference mode reproduces shared/reference_vectors as CpuOps<double> does
// (admm_reference_test): every backtrack and FISTA count, every tensor, the z-branch quirk over
// whole iterations, in 1 and 3 groups (tools/carry_build.sh carries the vectors to a GPU machine).
TEST_F(CudaTraining, ReferenceVectorsInDoublePrecision) {
  if (reference_check::vectors().is_null())
    GTEST_SKIP() << "shared/reference_vectors not found under " << test::shared_dir() << " (set PDADMM_SHARED)";
  const auto gpu = [](int) { return make_cuda_ops_double(0); };
  for (const char* name : {"tiny_3layer", "tiny_3layer_small_rho"})
    for (int groups : {1, 3}) {
      SCOPED_TRACE(std::string(name) + ", " + std::to_string(groups) + " groups");
      // The groups' wire buffers are device memory: a device transport, not the host's memcpy.
      reference_check::check_problem<double>(name, groups, 0, reference_check::kTol, reference_check::kTol, nullptr, gpu,
                                             make_cuda_transport(std::vector<int>(static_cast<size_t>(groups), 0)));
    }
}

TEST_F(CudaTraining, MissingDeviceInTheConfigIsNamed) {
  Config c = small_config({"backend=\"cuda\""});
  c.devices = {cuda_device_count()};
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W0, b0;
  init_weights(p.dims, c.model.init_std, 5, W0, b0);
  try {
    make_solver(c, p, W0, b0);
    FAIL() << "device " << c.devices[0] << " should not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("device " + std::to_string(c.devices[0]) + " does not exist"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace pdadmm
