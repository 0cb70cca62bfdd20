// CUDA transports (device-local mailboxes; NCCL with two or more GPUs): closed-form payloads
// checked by the receiver (nccl-tests style), length and shutdown errors, and the rule that both
// copies of the dual u stay bit-identical after a q exchange. Skips without a GPU.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cuda/cuda_backend.h"
#include "host/comm/inproc_transport.h"
#include "host/io/error.h"
#include "host/quant/grid.h"
#include "host/quant/wire.h"

namespace pdadmm {
namespace {

TEST(CudaTransport, WithoutDeviceThrowsClearError) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is visible";
  try {
    make_cuda_transport({0, 1});
    FAIL() << "make_cuda_transport did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("backend \"cuda\": ", 0), 0u) << e.what();
  }
}

class CudaTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible: " << cuda_unavailable_reason();
  }
};

// Runs one function per group on its own thread; rethrows the first failure.
void run_groups(int groups, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(groups);
  for (int g = 0; g < groups; ++g)
    threads.emplace_back([&, g] {
      try {
        body(g);
      } catch (...) {
        errors[g] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// The device lists to try: two groups sharing GPU 0 (device-local), and two GPUs (NCCL when
// built) when there are two.
std::vector<std::vector<int>> layouts() {
  std::vector<std::vector<int>> out{{0, 0}};
  if (cuda_device_count() >= 2) out.push_back({0, 1});
  return out;
}

// Messages go one way, then the other: group `from` sends (1000 from + i%1000 + 0.5 k) as
// message k; the receiver checks every value. More messages than a mailbox or staging ring holds,
// and a slow receiver, so the sender has to wait for slots. Group g's side, on its thread.
void exchange_closed_form(Ops<float>& ops, Endpoint& ep, int g) {
  const int64_t n = 100003;
  const int messages = 5;
  auto value = [](int from, int64_t i, int k) { return 1000.0f * from + static_cast<float>(i % 1000) + 0.5f * k; };
  ops.bind_thread();
  Tensor<float> buf = ops.alloc(1, n);
  std::vector<float> h(n);
  for (int from : {0, 1}) {
    for (int k = 0; k < messages; ++k) {
      if (g == from) {
        for (int64_t i = 0; i < n; ++i) h[i] = value(from, i, k);
        ops.upload(h.data(), buf);
        ep.send(1 - g, Tag::Q, buf.data(), buf.bytes());
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ep.recv(from, Tag::Q, buf.data(), buf.bytes());
        ops.download(buf, h.data());
        // Counted, not ASSERTed: a receiver that stopped early would leave the sender waiting for a
        // slot (or its stream for an NCCL send) for ever, and a wrong payload would hang the test.
        int64_t wrong = 0, first = -1;
        for (int64_t i = 0; i < n; ++i)
          if (h[i] != value(from, i, k) && wrong++ == 0) first = i;
        EXPECT_EQ(wrong, 0) << "message " << k << " from group " << from << ", first wrong at " << first;
      }
    }
  }
  ops.sync();
}

TEST_F(CudaTransportTest, ClosedFormMessagesArriveInOrder) {
  for (const auto& devices : layouts()) {
    SCOPED_TRACE("devices " + std::to_string(devices[0]) + "," + std::to_string(devices[1]));
    auto transport = make_cuda_transport(devices);
    if (devices[0] == devices[1]) {
      EXPECT_EQ(cuda_transport_kind(*transport), "device");
    }
    run_groups(2, [&](int g) {
      auto ops = make_cuda_ops(devices[g]);
      exchange_closed_form(*ops, transport->endpoint(g), g);
    });
  }
}

// Under mpirun a CUDA group's messages go through host memory to the MPI transport
// (StagedTransport); here the host side is the in-process transport, with the same payloads.
TEST_F(CudaTransportTest, StagedThroughHostMemoryArriveInOrder) {
  for (const auto& devices : layouts()) {
    SCOPED_TRACE("devices " + std::to_string(devices[0]) + "," + std::to_string(devices[1]));
    std::vector<std::unique_ptr<Ops<float>>> ops;
    for (int d : devices) ops.push_back(make_cuda_ops(d));
    auto transport =
        make_cuda_process_transport(std::make_unique<InProcTransport>(2), {ops[0].get(), ops[1].get()}, false);
    EXPECT_EQ(cuda_transport_kind(*transport), "staged");
    run_groups(2, [&](int g) { exchange_closed_form(*ops[g], transport->endpoint(g), g); });
  }
}

TEST_F(CudaTransportTest, DeviceLocalChecksLengthAndPeers) {
  auto transport = make_cuda_transport({0, 0});
  auto ops = make_cuda_ops(0);
  Tensor<float> buf = ops->alloc(1, 64);
  transport->endpoint(0).send(1, Tag::P, buf.data(), 64 * sizeof(float));
  EXPECT_THROW(transport->endpoint(1).recv(0, Tag::P, buf.data(), 32 * sizeof(float)), Error);
  EXPECT_THROW(transport->endpoint(0).send(0, Tag::P, buf.data(), 4), Error);
  EXPECT_THROW(transport->endpoint(0).send(2, Tag::P, buf.data(), 4), Error);
  EXPECT_THROW(transport->endpoint(2), Error);
}

TEST_F(CudaTransportTest, ShutdownWakesABlockedReceive) {
  for (const auto& devices : layouts()) {
    auto transport = make_cuda_transport(devices);
    auto ops = make_cuda_ops(devices[1]);
    Tensor<float> buf = ops->alloc(1, 16);
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      transport->shutdown();
    });
    ops->bind_thread();
    EXPECT_THROW(transport->endpoint(1).recv(0, Tag::Q, buf.data(), buf.bytes()), Error);
    stopper.join();
  }
}

// "What crosses the wire is what both sides use": group 0 computes q, encodes it (rounding its
// own copy), sends it; both groups update their copy of u with the same p_next; the two copies of
// u must be equal bit for bit.
TEST_F(CudaTransportTest, DualCopiesStayBitIdentical) {
  const int64_t rows = 300, cols = 517;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> hp(rows * cols), hu(rows * cols), hz(rows * cols), hq(rows * cols);
  for (auto* v : {&hp, &hu, &hz, &hq})
    for (auto& x : *v) x = dist(rng);
  for (const auto& devices : layouts()) {
    for (bool bound : {false, true}) {
      for (WireFormat f : {WireFormat::Native, WireFormat::Fp32, WireFormat::Fp16, WireFormat::Bf16, WireFormat::Int8}) {
        const WireSpec spec{f, nullptr};
        const size_t bytes = encoded_bytes(spec, rows, cols, sizeof(float));
        SCOPED_TRACE(std::string(wire_name(f)) + (bound ? " bound" : " legacy") + " devices " +
                     std::to_string(devices[0]) + "," + std::to_string(devices[1]));
        std::vector<std::unique_ptr<Ops<float>>> ops;
        for (int d : devices) ops.push_back(make_cuda_ops(d));
        auto transport = bound ? make_cuda_transport_for_ops({ops[0].get(), ops[1].get()}) : make_cuda_transport(devices);
        std::vector<std::vector<float>> u_after(2, std::vector<float>(rows * cols));
        run_groups(2, [&](int g) {
          Ops<float>& o = *ops[g];
          o.bind_thread();
          Tensor<float> p = o.alloc(rows, cols), u = o.alloc(rows, cols), q = o.alloc(rows, cols);
          o.upload(hp.data(), p);
          o.upload(hu.data(), u);
          Tensor<uint8_t> wire = o.alloc_bytes(static_cast<int64_t>(bytes));
          Endpoint& ep = transport->endpoint(g);
          if (g == 0) {
            Tensor<float> z = o.alloc(rows, cols);
            o.upload(hz.data(), z);
            o.q_update(1.0f, 1.3f, p, u, z, q);
            const size_t n = o.encode(spec, q, wire);  // q now holds what group 1 will decode
            ASSERT_EQ(n, bytes);
            ep.send(1, Tag::Q, wire.data(), n);
          } else {
            ep.recv(0, Tag::Q, wire.data(), bytes);
            o.decode(spec, wire, q);
          }
          o.dual_update(1.3f, p, q, u);
          o.download(u, u_after[g].data());
        });
        EXPECT_EQ(std::memcmp(u_after[0].data(), u_after[1].data(), u_after[0].size() * sizeof(float)), 0);
      }
    }
  }
}

}  // namespace
}  // namespace pdadmm
