#include "kernels/engine/onednn_common.h"

#include <fmt/format.h>

#include <array>

namespace lowbit::kernels {

const dnnl::engine& onednn_cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& onednn_thread_stream() {
  thread_local dnnl::stream stream(onednn_cpu_engine());
  return stream;
}

dnnl::memory::desc plain_matrix(dnnl::memory::dim rows, dnnl::memory::dim cols,
                                dnnl::memory::data_type type) {
  return dnnl::memory::desc({rows, cols}, type, dnnl::memory::format_tag::ab);
}

dnnl::memory::desc weights_out_in(dnnl::memory::dim inputs, dnnl::memory::dim outputs,
                                  dnnl::memory::data_type type) {
  return dnnl::memory::desc({inputs, outputs}, type, dnnl::memory::format_tag::ba);
}

dnnl::memory reorder_to(const dnnl::memory& src, const dnnl::memory::desc& dst_desc) {
  dnnl::memory dst(dst_desc, onednn_cpu_engine());
  dnnl::stream& stream = onednn_thread_stream();
  dnnl::reorder(src, dst).execute(stream, {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}});
  stream.wait();
  return dst;
}

std::string onednn_impl_name(const dnnl::primitive_desc_base& pd) {
  const char* name = pd.impl_info_str();
  return name == nullptr ? std::string("unknown") : std::string(name);
}

bool onednn_isa_has_vnni(std::string_view isa) {
  // avx512_core_bf16 (Cooper Lake) and avx512_core_amx (Sapphire Rapids) include VNNI. An
  // unknown name counts as no VNNI: the reduced range is then merely a little less precise,
  // while the full range on a CPU without VNNI would be wrong.
  constexpr std::array<std::string_view, 4> kWithVnni = {"avx2_vnni", "avx512_core_vnni",
                                                         "avx512_core_bf16", "avx512_core_amx"};
  for (std::string_view name : kWithVnni) {
    if (isa == name) return true;
  }
  return false;
}

bool onednn_isa_has_avx512_core(std::string_view isa) { return isa.starts_with("avx512_core"); }

std::string onednn_status_name(dnnl_status_t status) {
  switch (status) {
    case dnnl_success:
      return "success";
    case dnnl_out_of_memory:
      return "out_of_memory";
    case dnnl_invalid_arguments:
      return "invalid_arguments";
    case dnnl_unimplemented:
      return "unimplemented";
    case dnnl_iterator_ends:
      return "iterator_ends";
    case dnnl_runtime_error:
      return "runtime_error";
    case dnnl_not_required:
      return "not_required";
  }
  return fmt::format("status({})", static_cast<int>(status));
}

}  // namespace lowbit::kernels
