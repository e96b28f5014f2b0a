# Per-file instruction-set flags for the sources of lowbit_kernels that contain ISA-specific
# loops (STYLE.md: each ISA in its own file with its own compile flags, as ruy's
# kernel_avx2_fma.cc). Only these files may use instructions beyond baseline x86-64; the code that
# calls into them checks __builtin_cpu_supports first, so the library runs on any x86-64 and the
# AVX-512 paths compile on machines that cannot run them.
#
# Each file gets the flags of the vector registers and intrinsics its C++ uses, and no more: the
# VNNI and BF16 instructions appear only in inline asm, which the assembler takes without -m flags,
# so the compiler can never put one of them into code that runs on a CPU gated only for
# avx512_core (F, BW, VL, DQ) or AVX2.
#
# Included from kernels/CMakeLists.txt, after the glob that picks these files up.

set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/peak_avx2.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/peak_avx_vnni.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/peak_avx512.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq")
# The fp16 path's GEMMs (kernels/gemm_f32f16.h): F16C's vcvtph2ps, fp32 FMA.
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/gemm_f32f16_avx2.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/gemm_f32f16_avx512.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mf16c;-mfma")
# The fixed path's u8·s8 GEMM and Q31 requantization (kernels/gemm_u8s8.h): AVX2 integer ops.
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/gemm_u8s8_avx2.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
# The sparse path's CSR × dense product (kernels/sparse_csr.h): AVX2 transposes, FMA.
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/sparse_csr_avx2.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
# The int4 path's packed low-bit GEMMs (kernels/gemm_lowbit.h). -ffp-contract=off on every tier:
# their outputs must be bit-identical, which needs the same fp32 roundings (mul, then add), never
# an FMA the compiler chose to contract in one tier and not another.
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/gemm_lowbit_ref.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/gemm_lowbit_portable.cpp
  PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/gemm_lowbit_avx2.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/gemm_lowbit_x8_avx2.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/q8_blocks_avx2.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx2;-mf16c;-ffp-contract=off")
set_source_files_properties(
  ${CMAKE_CURRENT_SOURCE_DIR}/gemm_lowbit_avx512vnni.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512vnni;-mf16c;-ffp-contract=off")
