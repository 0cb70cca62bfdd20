// In-process transport: ordering per (peer, tag), size checks, shutdown wakes blocked peers,
// and the worker pool's error propagation.
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "host/admm/worker_pool.h"
#include "host/comm/inproc_transport.h"
#include "host/comm/processes_env.h"
#include "host/comm/split_transport.h"
#include "host/io/error.h"
#include "tests/test_util.h"

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
  EXPECT_EQ(test::error_of([&] { t.endpoint(1).recv(0, Tag::P, &y, sizeof y); }),
            "transport: group 1 expected 4 bytes from group 0, got 8");
  EXPECT_EQ(test::error_of([&] { t.endpoint(1).send(1, Tag::P, &x, sizeof x); }), "transport: bad peer 1");  // to itself
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

// A full mailbox (capacity 1) blocks the sender until the receiver takes a message: that bound is
// what keeps a fast group from running ahead of its neighbour without limit.
TEST(InProcTransport, SendBlocksAtCapacity) {
  InProcTransport t(2, 1);
  std::atomic<int> sent{0};
  std::thread s([&] {
    for (int i = 0; i < 2; ++i) {
      t.endpoint(0).send(1, Tag::P, &i, sizeof i);
      ++sent;
    }
  });
  for (int spin = 0; spin < 2000 && sent.load() < 1; ++spin) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sent.load(), 1) << "the second send did not wait for room";
  int v = -1;
  t.endpoint(1).recv(0, Tag::P, &v, sizeof v);
  EXPECT_EQ(v, 0);
  s.join();
  EXPECT_EQ(sent.load(), 2);
  t.endpoint(1).recv(0, Tag::P, &v, sizeof v);
  EXPECT_EQ(v, 1);
}

// Messages already queued are delivered after shutdown; only a receive with nothing left fails.
TEST(InProcTransport, QueuedMessagesSurviveShutdown) {
  InProcTransport t(2);
  const int x = 42;
  t.endpoint(0).send(1, Tag::Q, &x, sizeof x);
  t.shutdown();
  int v = 0;
  t.endpoint(1).recv(0, Tag::Q, &v, sizeof v);
  EXPECT_EQ(v, 42);
  EXPECT_THROW(t.endpoint(1).recv(0, Tag::Q, &v, sizeof v), Error);
}

// SplitTransport (NCCL messages + MPI host transport under mpirun) must shut down its message
// transport too: a peer blocked in a receive is woken, not left hanging after a failure.
TEST(SplitTransport, ShutdownWakesAReceiverOnTheMessageTransport) {
  auto messages = std::make_unique<InProcTransport>(2);
  InProcTransport* raw = messages.get();
  SplitTransport t(std::move(messages), std::make_unique<InProcTransport>(2));
  auto r = std::async(std::launch::async, [&] {
    int v;
    try {
      t.endpoint(1).recv(0, Tag::Q, &v, sizeof v);
    } catch (const Error&) {
      return true;
    }
    return false;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  t.shutdown();
  const bool woke = r.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  EXPECT_TRUE(woke) << "the receiver was still blocked after shutdown";
  if (!woke) raw->shutdown();  // let the thread finish either way
  EXPECT_TRUE(r.get());
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

// A pool whose threads the system refuses (here: stacks past ulimit -v) stops with one Error that
// says so, not the std::system_error that ended 10000 groups as "error: internal: Resource
// temporarily unavailable"; the threads it did start are joined.
TEST(WorkerPool, ThreadsTheSystemRefusesAreOneError) {
  if (pdadmm::test::kShadowMemory) GTEST_SKIP() << "a sanitizer's shadow memory cannot live under ulimit -v";
  struct rlimit r {};
  ASSERT_EQ(getrlimit(RLIMIT_AS, &r), 0);
  if (r.rlim_cur != RLIM_INFINITY) GTEST_SKIP() << "this test runs under an address-space limit already";
  EXPECT_EXIT(
      {
        pdadmm::test::limit_address_space_to_mapped_plus(64.0 * 1024 * 1024);  // 8 stacks of 8 MiB
        int code = 0;
        try {
          WorkerPool pool(256);
          code |= 1;
        } catch (const Error& e) {
          if (std::string(e.what()).rfind("could not start thread ", 0) != 0) code |= 2;
        } catch (...) {
          code |= 4;
        }
        std::exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

// A group failing while its neighbours wait on it, one in a receive from it and one in a send to
// its full mailbox: on_error shuts the transport down, both wake, and run() rethrows the failing
// group's own error, not a neighbour's "shut down".
TEST(WorkerPool, AFailingGroupWakesItsWaitingNeighboursAndItsErrorIsRethrown) {
  InProcTransport t(3, 1);
  WorkerPool pool(3, [&] { t.shutdown(); });
  std::atomic<int> woke{0};
  try {
    pool.run([&](int g) {
      int v = 0;
      if (g == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the others block first
        throw Error("group 0 failed");
      }
      try {
        if (g == 1) t.endpoint(1).recv(0, Tag::Q, &v, sizeof v);
        while (g == 2) t.endpoint(2).send(0, Tag::P, &v, sizeof v);  // the second send blocks (capacity 1)
      } catch (const Error&) {
        woke++;
        throw;
      }
    });
    ADD_FAILURE() << "run() did not rethrow";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "group 0 failed");
  }
  EXPECT_EQ(woke, 2);
}


// mpirun's counts (OMPI_COMM_WORLD_SIZE, …) are read with env_int: a value that is no int gives the
// fallback ("3000000000" was atoi's undefined result, a wrapped negative with glibc).
TEST(ProcessesEnv, EnvIntFallsBackOnNonInts) {
  const char* name = "PDADMM_TEST_ENV_INT";
  const auto read = [&](const char* v) {
    ::setenv(name, v, 1);
    const int n = env_int(name, 7);
    ::unsetenv(name);
    return n;
  };
  EXPECT_EQ(read("4"), 4);
  EXPECT_EQ(read("-2"), -2);
  EXPECT_EQ(read(""), 7);
  EXPECT_EQ(read("abc"), 7);
  EXPECT_EQ(read("4x"), 7);
  EXPECT_EQ(read("3000000000"), 7);
  EXPECT_EQ(read("99999999999999999999"), 7);
  EXPECT_EQ(env_int(name, 7), 7);  // unset
}

}  // namespace
}  // namespace pdadmm
