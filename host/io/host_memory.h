// Host memory this process can still take, so that a model too large for the machine stops with
// one line before allocating (Linux overcommits: the allocations would succeed, and the kernel's
// OOM killer would end the run later with nothing said).
#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace pdadmm {

// MemAvailable of /proc/meminfo, lowered to the cgroup's limit less its usage where one is set
// (cgroup v2 memory.max / memory.current, v1 memory.limit_in_bytes / usage_in_bytes) and to the
// address space left under ulimit -v less the BLAS reserve (address_space_room); -1 when none can
// be read. *by_limit: whether ulimit -v is what binds.
int64_t available_host_bytes(bool* by_limit = nullptr);
// The same less ulimit -v: what every process on the machine draws on; -1 when unreadable.
int64_t available_machine_bytes();

// RLIMIT_AS (ulimit -v, a batch queue's h_vmem) less the address space this process maps now
// (VmSize of /proc/self/statm), or less the BLAS reserve's end while that is higher; -1 without a
// limit.
int64_t address_space_room();

// OpenBLAS (0.3.21) maps a 128 MiB buffer for each thread inside a BLAS call at once and, when
// the address-space limit refuses it, retries for ever: a run under a small ulimit -v hung with
// nothing said. Sets aside that much (and a stack) for `threads` threads, which
// address_space_room leaves out, and stops with one line, before any BLAS call, when the limit
// leaves less. `groups`: layer groups that run on threads of their own (the CPU backend in one
// process), each calling BLAS itself: with more groups than threads they are the callers at once
// (300 groups under ulimit -v 4 GB hung in OpenBLAS's retry loop, the threads' reserve allowed).
void reserve_blas_address_space(int threads, int groups = 1);

// The parsers behind it, on the files' text.
int64_t parse_meminfo_available(const std::string& meminfo);  // bytes, -1 without the line
int64_t parse_cgroup_room(const std::string& limit, const std::string& usage);  // -1: no limit

// One line ("out of host memory: WHAT_NEEDS 1.2 GiB and 0.9 GiB is available ADVICE") when `need`
// bytes are more than the host has left: Linux would grant them and its OOM killer end the
// process later, silently. `what_needs`: "the … need(s)".
void require_room(double need, const std::string& what_needs, const std::string& advice);
// The same with advice that depends on the room, made only when the check fails.
void require_room(double need, const std::string& what_needs, const std::function<std::string(int64_t room)>& advice);

// The same against available_machine_bytes, for what several processes on the machine need
// together ("… and 0.9 GiB is available on this machine ADVICE").
void require_machine_room(double need, const std::string& what_needs, const std::string& advice);

// "12.7 GiB"
std::string human_bytes(double bytes);

}  // namespace pdadmm
