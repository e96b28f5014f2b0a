#pragma once
// Capability detection: what this worker reports as its target and versions when it registers,
// and what every result it produces carries. Reads Linux's own descriptions of the machine
// (/proc, /sys, uname) and asks the libraries what they loaded, so the fingerprint shows what
// actually runs, not what the hardware could do.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/target.h"

namespace lowbit::worker {

// The fingerprint of this machine as configured: `threads` as given to kernels::set_threads, and
// `isa_cap` as given to --max-isa ("native" for none). Recording only: the cap must already be in
// force (environment or dnnl::set_max_cpu_isa) before this is called, because asking oneDNN for its
// effective ISA fixes it for the rest of the process. Throws std::invalid_argument for threads < 1
// or an empty cap. A file that cannot be read leaves its fields empty or zero.
protocol::Target detect_target(int threads, const std::string& isa_cap = "native");

// lowbit revision, compiler, and the OpenBLAS and oneDNN this process loaded.
protocol::VersionInfo detect_versions();

// Parsers behind detect_target, exposed so tests can feed them other machines' text.

struct CpuInfo {
  std::string cpu;                     // "model name (family F, model M)"; "unknown" if absent
  std::vector<std::string> isa_flags;  // kept flags, in the canonical order of kIsaFlags
};

// The flags that decide which kernels can run, ordered by ISA generation. Anything else in
// /proc/cpuinfo (virtualization, security mitigations, power) is left out so that it cannot
// split a target.
inline constexpr std::string_view kIsaFlags[] = {
    "sse4_1",
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi2",
    "avx_vnni",
    "avx512f",
    "avx512cd",
    "avx512bw",
    "avx512dq",
    "avx512vl",
    "avx512ifma",
    "avx512vbmi",
    "avx512_vbmi2",
    "avx512_vnni",
    "avx512_bitalg",
    "avx512_vpopcntdq",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
    "amx_fp16",
};

// The first processor's block of /proc/cpuinfo.
CpuInfo parse_cpuinfo(std::string_view text);

// MemTotal from /proc/meminfo, in bytes; 0 when absent.
std::int64_t parse_mem_total(std::string_view meminfo);

// A sysfs cache size, "32K" or "32768K" or "1M", in bytes; 0 when malformed.
std::int64_t parse_cache_size(std::string_view text);

// Number of CPUs in a sysfs CPU list such as "0-3,8,10-11"; 0 when malformed.
int count_cpu_list(std::string_view list);

}  // namespace lowbit::worker
