// The CUDA side of the configuration, checked without a GPU: the "cuda" section (tf32, off by
// default, strictly typed), the "devices" rules and the group -> GPU mapping, and the clear error
// of "backend": "cuda" where no GPU (or no CUDA build) is available.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cuda/cuda_backend.h"
#include "host/admm/trainer.h"
#include "host/config/config.h"
#include "host/io/error.h"
#include "tests/test_util.h"

namespace pdadmm {
namespace {

using test::config_error;

TEST(CudaConfig, Tf32IsOffByDefaultAndEchoed) {
  const Config c = parse_config(nlohmann::json::object());
  EXPECT_FALSE(c.cuda.tf32);
  EXPECT_EQ(c.effective["cuda"]["tf32"], false);
  const Config on = parse_config(nlohmann::json::object(), {"backend=\"cuda\"", "cuda.tf32=true"});
  EXPECT_TRUE(on.cuda.tf32);
  EXPECT_EQ(on.effective["cuda"]["tf32"], true);
  EXPECT_TRUE(on.warnings.empty());
}

TEST(CudaConfig, Tf32IsValidated) {
  EXPECT_NE(config_error({"cuda.tf32=\"yes\""}).find("cuda.tf32"), std::string::npos);
  EXPECT_NE(config_error({"cuda.tf32=1"}).find("cuda.tf32"), std::string::npos);
  EXPECT_NE(config_error({"cuda.tensor_cores=true"}).find("cuda.tensor_cores"), std::string::npos);
  EXPECT_NE(config_error({"cuda=3"}).find("cuda"), std::string::npos);
}

TEST(CudaConfig, Tf32WithTheCpuBackendWarns) {
  const Config c = parse_config(nlohmann::json::object(), {"cuda.tf32=true"});
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("cuda.tf32"), std::string::npos) << c.warnings[0];
}

TEST(CudaConfig, DevicesAtMostOnePerGroup) {
  // Accepted lists are kept as given, in their order (group 0 on device 1 here).
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"model.layers=4", "groups=2", "devices=[1, 0]"}).devices,
            (std::vector<int>{1, 0}));
  EXPECT_EQ(parse_config(nlohmann::json::object(), {"model.layers=4", "groups=4", "devices=[0]"}).devices,
            (std::vector<int>{0}));
  const std::string e = config_error({"model.layers=4", "groups=2", "devices=[0, 1, 2]"});
  EXPECT_NE(e.find("devices"), std::string::npos) << e;
  EXPECT_NE(e.find("3 devices for 2 groups"), std::string::npos) << e;
}

TEST(CudaConfig, GroupsMapToDevicesInOrder) {
  using V = std::vector<int>;
  EXPECT_EQ(cuda_group_devices({1, 0, 3}, 3, 4), (V{1, 0, 3}));        // one per group, as listed
  EXPECT_EQ(cuda_group_devices({}, 4, 2), (V{0, 0, 1, 1}));            // all visible GPUs, in blocks
  EXPECT_EQ(cuda_group_devices({}, 3, 0), (V{0, 0, 0}));               // nothing visible: device 0
  EXPECT_EQ(cuda_group_devices({}, 2, 8), (V{0, 1}));
  EXPECT_EQ(cuda_group_devices({2, 5}, 5, 8), (V{2, 2, 2, 5, 5}));     // neighbours share a GPU
  EXPECT_EQ(cuda_group_devices({3}, 3, 1), (V{3, 3, 3}));              // several groups on one GPU
}

// mpirun with NCCL and no devices list: more processes on a machine than GPUs is named up front.
TEST(CudaConfig, NcclProcessesNeedAGpuEach) {
  EXPECT_EQ(nccl_placement_problem(2, 2), "");
  EXPECT_EQ(nccl_placement_problem(1, 8), "");
  EXPECT_EQ(nccl_placement_problem(4, 2),
            "cuda.processes \"nccl\": mpirun put 4 processes on this machine, which has 2 GPU(s), and NCCL needs a GPU "
            "for each; run at most 2 per machine, or set cuda.processes to \"staged\" (through host memory: GPUs may "
            "be shared)");
}

TEST(CudaConfig, CudaBackendWithoutAGpuFailsClearly) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is visible";
  Config c = parse_config(nlohmann::json::object(),
                          {"backend=\"cuda\"", "data.synthetic.nodes=300", "data.synthetic.val=50",
                           "data.synthetic.test=50", "model.hidden=8"});
  Problem p = build_problem(c);
  std::vector<HostMatrix<float>> W, b;
  init_weights(p.dims, c.model.init_std, 1, W, b);
  try {
    make_solver(c, p, W, b);
    FAIL() << "make_solver did not throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("backend \"cuda\": ", 0), 0u) << msg;
    EXPECT_NE(msg.find("\"backend\": \"cpu\""), std::string::npos) << "the error says what to do: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
  }
}

}  // namespace
}  // namespace pdadmm
