#pragma once
// What the oneDNN compute paths (engine_onednn_int8.h, engine_onednn_bf16.h) share: the CPU
// engine and streams, plain 2-D memory descriptors, the one-time weight reorder, and the names
// oneDNN gives its implementations. The 2.x API throughout, not 3.x (Debian ships 2.6.3):
// matmul::desc, primitive_attr::set_output_scales / set_zero_points.
//
// Only the .cpp files of the oneDNN paths include this header, so <dnnl.hpp> stays out of the
// engine headers and out of everything that merely builds an engine.

#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <string_view>

namespace lowbit::kernels {

// The process's CPU engine. oneDNN fixes its ISA at the first call into the library, so build
// engines only after any ISA cap (library_info.h).
const dnnl::engine& onednn_cpu_engine();

// One stream per thread: a oneDNN stream must not be used by two threads at once, and an
// InferenceEngine may be driven from any thread (one at a time).
dnnl::stream& onednn_thread_stream();

// A row-major rows × cols descriptor; rows may be DNNL_RUNTIME_DIM_VAL (the batch).
dnnl::memory::desc plain_matrix(dnnl::memory::dim rows, dnnl::memory::dim cols,
                                dnnl::memory::data_type type);

// A K × N weights descriptor over a [out][in] array (mlp.h): the transpose of N × K row-major,
// i.e. format tag `ba`.
dnnl::memory::desc weights_out_in(dnnl::memory::dim inputs, dnnl::memory::dim outputs,
                                  dnnl::memory::data_type type);

// Copies `src` (user memory, any layout) into a new memory of descriptor `dst` — the layout a
// primitive chose for `format_tag::any` — converting the data type if they differ (f32 → bf16
// rounds to nearest even). Done once per model, at construction.
dnnl::memory reorder_to(const dnnl::memory& src, const dnnl::memory::desc& dst);

// pd.impl_info_str(): "gemm:jit", "brg:avx512_core_vnni", ...
std::string onednn_impl_name(const dnnl::primitive_desc_base& pd);

// Whether oneDNN's effective ISA (library_info.h's onednn_effective_isa() names) has VNNI
// (vpdpbusd): u8·s8 products then accumulate straight into int32. Without it they go through
// vpmaddubsw, whose pairwise int16 sums saturate.
bool onednn_isa_has_vnni(std::string_view isa);

// Whether the ISA is avx512_core or above (oneDNN 2.6 has no bf16 matmul below it).
bool onednn_isa_has_avx512_core(std::string_view isa);

// "unimplemented", "invalid_arguments", ...: a dnnl::error's status, for refusals and messages.
std::string onednn_status_name(dnnl_status_t status);

}  // namespace lowbit::kernels
