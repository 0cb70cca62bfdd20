// The GPU error-check family and allocation errors (cuda/check.h, cuda/device_memory.h). These
// need the CUDA headers but no GPU: a failing status is passed in directly, and without a driver
// every allocation fails, which is exactly the error path under test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>

#include "cuda/cuda_backend.h"
#include "host/io/error.h"

#if defined(PDADMM_HAVE_CUDA)
#include "cuda/check.h"
#include "cuda/device_memory.h"
#include "cuda/stream.h"

namespace pdadmm {
namespace {

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CudaCheck, CudaErrorThrowsWithExpressionFileLineAndLibraryMessage) {
  const std::string msg = message_of([] { CUDA_CHECK(cudaErrorInvalidValue); });
  EXPECT_NE(msg.find("CUDA error on device"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cuda_check_test.cpp:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cudaErrorInvalidValue"), std::string::npos) << msg;
  EXPECT_NE(msg.find("invalid argument"), std::string::npos) << msg;
}

TEST(CudaCheck, LibraryStatusesThrowWithTheirNames) {
  EXPECT_NE(message_of([] { CUBLAS_CHECK(CUBLAS_STATUS_NOT_INITIALIZED); }).find("CUBLAS_STATUS_NOT_INITIALIZED"),
            std::string::npos);
  EXPECT_NE(message_of([] { CUSPARSE_CHECK(CUSPARSE_STATUS_INVALID_VALUE); }).find("cuSPARSE error"),
            std::string::npos);
#if defined(PDADMM_HAVE_NCCL)
  EXPECT_NE(message_of([] { NCCL_CHECK(ncclInvalidArgument); }).find("NCCL error"), std::string::npos);
#endif
}

TEST(CudaCheck, SuccessPassesAndNothrowVariantOnlyWarns) {
  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(CUDA_CHECK(cudaSuccess));
  EXPECT_NO_THROW(CUBLAS_CHECK(CUBLAS_STATUS_SUCCESS));
  EXPECT_NO_THROW(CUDA_CHECK_NOTHROW(cudaSuccess));
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "") << "success said something";
  // The warning is the thrown message's, on stderr, one line each; a call site that fails the same
  // way again (every free of a teardown after a sticky error) is not repeated, another error is.
  testing::internal::CaptureStderr();
  for (const cudaError_t e : {cudaErrorInvalidValue, cudaErrorInvalidValue, cudaErrorInvalidValue, cudaErrorNotReady})
    EXPECT_NO_THROW(CUDA_CHECK_NOTHROW(e));
  EXPECT_NO_THROW(CUBLAS_CHECK_NOTHROW(CUBLAS_STATUS_INTERNAL_ERROR));
  const std::string err = testing::internal::GetCapturedStderr();
  const size_t cuda = err.find("pdadmm: warning: CUDA error on device "), cublas = err.find("pdadmm: warning: cuBLAS error");
  EXPECT_EQ(cuda, 0u) << err;
  EXPECT_NE(err.find("cuda_check_test.cpp:"), std::string::npos) << err;
  EXPECT_NE(err.find(": e failed: cudaErrorInvalidValue (invalid argument)\n"), std::string::npos)
      << err;
  EXPECT_NE(cublas, std::string::npos) << err;
  EXPECT_NE(err.find("CUBLAS_STATUS_INTERNAL_ERROR"), std::string::npos) << err;
  EXPECT_NE(err.find(": e failed: cudaErrorNotReady"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 3) << err;
}

TEST(CudaCheck, AllocationFailureNamesDeviceAndBytes) {
  // Without a device every cudaMalloc fails; with one, 2^50 bytes does.
  const size_t count = cuda_device_count() == 0 ? size_t{1} << 20 : size_t{1} << 48;
  const std::string msg = message_of([&] { DeviceBuffer<float> b(0, count, "the test buffer"); });
  EXPECT_NE(msg.find("cannot allocate " + std::to_string(count * sizeof(float)) + " bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("on device 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the test buffer"), std::string::npos) << msg;
}

TEST(CudaCheck, EmptyBuffersNeedNoDevice) {
  DeviceBuffer<float> b(0, 0);
  EXPECT_EQ(b.data(), nullptr);
  DeviceBuffer<float> moved = std::move(b);
  EXPECT_EQ(moved.size(), 0u);
}

// Since CUDA 12, cudaSetDevice creates the context of the device it selects, so a scope that
// "restored" device 0 on a thread that never chose one made a context (~0.5 GiB) on GPU 0 in every
// process whose groups run elsewhere (mpirun: one process per GPU). In a fresh process (the death
// test re-executes the binary), as an mpirun rank starts: allocations, streams and events on the
// last GPU must leave GPU 0 without a context. With one GPU only the context query is checked
// (none before the first allocation, one after): it must work for the scopes to rely on it.
TEST(CudaDeviceScope, LeavesNoContextOnAGpuTheProcessNeverUsed) {
  const int n = cuda_device_count();
  if (n == 0) GTEST_SKIP() << "no CUDA device visible: " << cuda_unavailable_reason();
#if CUDART_VERSION < 12050
  GTEST_SKIP() << "built with CUDA " << CUDART_VERSION << ": the context query needs 12.5 (the scopes restore as before)";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const int d = n - 1;
  EXPECT_EXIT(
      {
        int code = 0;
        if (device_context_active(d)) code |= 1;  // a fresh process has none (or the query fails)
        {
          DeviceBuffer<float> b(d, 16, "the probe buffer");
          Stream s(d, false);
          Event e(d, false);
          e.record(s.get());
          s.sync();
        }
        if (!device_context_active(d)) code |= 2;
        if (d != 0 && device_context_active(0)) code |= 4;
        std::exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace pdadmm

#else
TEST(CudaCheck, BuiltWithoutCuda) { GTEST_SKIP() << "this build has no CUDA backend"; }
#endif
