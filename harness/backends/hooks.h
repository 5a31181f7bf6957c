// Fault hook names: what a ServiceHandle's apply_hook() understands, spelled once for every
// backend and for the chaos engine that calls them.
//
//   crash, kill          the service stops serving as a crash would: connections drop, the handle
//                        reports it exited (args {"exit_code": N}, default 137); recovery is the
//                        Orchestrator's restart, so heal is a no-op
//   refuse-connections   connect() gets ECONNREFUSED; open connections live on; heal reopens
//   pause                every request is held (a fake) or the process is stopped (SIGSTOP);
//                        heal resumes
//   oom                  redis: writes that may grow memory get -OOM; heal lifts it
//   admin-shutdown       postgres: every session gets FATAL 57P01 (args {"refuse_ms": N}, fake
//                        only: then refuse connections for N ms); heal is a no-op
//   latency              each request waits {"ms": N} first (redis: {"command"} narrows it,
//                        postgres: {"pattern"} a regex over statements, kafka: {"broker"} one
//                        broker's responses); heal removes it
//   read-only            writes fail (redis -READONLY, postgres 25006); heal lifts it
//   max-connections      postgres: sessions beyond {"limit": N} get 53300; heal restores it
//   broker-down          kafka: broker {"broker": N} stops answering, its partitions move to the
//                        surviving in-sync replicas (fakes/kafka); heal brings it back
//   xid                  gpu: device {"device": N} reports Xid {"code": 79} (fell off the bus:
//                        lost) or 48 (double-bit ECC: failed); heal is the GPU reset
//   thermal              gpu: device {"device": N} throttles at the slowdown temperature
//   gpu-memory-exhausted gpu: device {"device": N} reads memory used == total
//   utilization-stuck    gpu: device {"device": N} reads {"percent": 0|100} whatever its load
//   smi-failure          gpu: nvidia-smi {"mode": "hang"|"malformed"|"driver-missing"}
//   container-crash      docker: container {"container": name} exits {"exit_code": N} (default
//                        1) once; the restart policy (docker's or the orchestrator's) recovers
//   crash-loop           docker: container {"container": name} exits {"exit_code"} within
//                        {"every_ms": N} (default 100) of every start until healed
//   container-oom        docker: container {"container": name} is OOM-killed (137) once
//   container-unhealthy  docker: container {"container": name}'s health probes fail until healed
//   (pause on docker: the daemon holds every request until healed)
//
// Which of them a handle offers is its hooks(); see harness/backends/README.md for the table per
// backend. Thread safety: constants only.
#pragma once

namespace faultline::backends::hook {

inline constexpr const char* kCrash = "crash";
inline constexpr const char* kKill = "kill";
inline constexpr const char* kRefuseConnections = "refuse-connections";
inline constexpr const char* kPause = "pause";
inline constexpr const char* kOom = "oom";
inline constexpr const char* kAdminShutdown = "admin-shutdown";
inline constexpr const char* kLatency = "latency";
inline constexpr const char* kReadOnly = "read-only";
inline constexpr const char* kMaxConnections = "max-connections";
inline constexpr const char* kBrokerDown = "broker-down";
inline constexpr const char* kXid = "xid";
inline constexpr const char* kThermal = "thermal";
inline constexpr const char* kGpuMemoryExhausted = "gpu-memory-exhausted";
inline constexpr const char* kUtilizationStuck = "utilization-stuck";
inline constexpr const char* kSmiFailure = "smi-failure";
inline constexpr const char* kContainerCrash = "container-crash";
inline constexpr const char* kCrashLoop = "crash-loop";
inline constexpr const char* kContainerOom = "container-oom";
inline constexpr const char* kContainerUnhealthy = "container-unhealthy";

}  // namespace faultline::backends::hook
