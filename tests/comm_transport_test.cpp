// In-process transport: ordering per (peer, tag), size checks, shutdown wakes blocked peers,
// and the worker pool's error propagation.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "host/admm/worker_pool.h"
#include "host/comm/inproc_transport.h"
#include "host/io/error.h"

namespace pdadmm {
namespace {

TEST(InProcTransport, DeliversInOrderPerPeerAndTag) {
  InProcTransport t(3);
  std::thread a([&] {
    for (int i = 0; i < 100; ++i) {
      t.endpoint(0).send(1, Tag::Q, &i, sizeof i);
      int j = -i;
      t.endpoint(0).send(1, Tag::P, &j, sizeof j);
    }
  });
  for (int i = 0; i < 100; ++i) {
    int got = 0;
    t.endpoint(1).recv(0, Tag::P, &got, sizeof got);
    EXPECT_EQ(got, -i);
    t.endpoint(1).recv(0, Tag::Q, &got, sizeof got);
    EXPECT_EQ(got, i);
  }
  a.join();
}

TEST(InProcTransport, SizeMismatchIsAnError) {
  InProcTransport t(2);
  double x = 1;
  t.endpoint(0).send(1, Tag::P, &x, sizeof x);
  float y;
  EXPECT_THROW(t.endpoint(1).recv(0, Tag::P, &y, sizeof y), Error);
  EXPECT_THROW(t.endpoint(1).send(1, Tag::P, &x, sizeof x), Error);  // to itself
}

TEST(InProcTransport, ShutdownWakesABlockedReceiver) {
  InProcTransport t(2);
  std::atomic<bool> threw{false};
  std::thread r([&] {
    int v;
    try {
      t.endpoint(1).recv(0, Tag::Q, &v, sizeof v);
    } catch (const Error&) {
      threw = true;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  t.shutdown();
  r.join();
  EXPECT_TRUE(threw);
}

TEST(WorkerPool, RunsEveryWorkerAndRethrows) {
  std::atomic<int> calls{0}, errors_seen{0};
  WorkerPool pool(4, [&] { errors_seen++; });
  for (int k = 0; k < 50; ++k) pool.run([&](int) { calls++; });
  EXPECT_EQ(calls, 200);
  EXPECT_THROW(pool.run([](int g) {
                 if (g == 2) throw Error("boom");
               }),
               Error);
  EXPECT_EQ(errors_seen, 1);
  pool.run([&](int) { calls++; });  // usable after an error
  EXPECT_EQ(calls, 204);
}

}  // namespace
}  // namespace pdadmm
