// spmm_csr_avx2: CSR weights times dense activations with AVX2 + FMA (compiled with -mavx2 -mfma,
// kernels/isa_flags.cmake; run only where the CPU has both, kernels/gemm/sparse_csr.cpp).
//
// Two schemes, because the two ends of the batch range are bound by different things:
//   batch < kPanelMinBatch: each output is a dot product of a CSR row with one src row. Eight
//     nonzeros at a time: their column indices select eight src values (scalar loads put into
//     one vector: faster than vgatherdps on AMD Zen), one FMA with the eight weights; the row's
//     last 1..7 nonzeros are scalar FMAs. The weights stream once; src (one row, a few KiB) stays
//     in L1.
//   batch ≥ kPanelMinBatch: row by row, each src value would be fetched once per nonzero per
//     batch row. Instead a panel of up to 64 batch rows is transposed (8 × 8 AVX transposes) to
//     panel[k][0..64), so the 64 values a weight multiplies are 256 contiguous bytes: each
//     nonzero is one broadcast and 8 FMAs on 8 independent accumulators (enough to hide the FMA
//     latency at 2 FMAs per cycle). A row's 64 results go to a dst panel that is transposed back
//     once per panel. The panel width shrinks for long rows (large K) so the panel stays in L2.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "kernels/gemm/sparse_csr.h"

namespace lowbit::kernels {

namespace {

constexpr int kLanes = 8;
constexpr int kMaxPanelVectors = 8;              // 64 batch rows: 8 accumulators
constexpr int kPanelMinBatch = 2;                // measured: at batch 2 the panel already wins
constexpr std::size_t kPanelBytes = 256 * 1024;  // half of a 512 KiB L2

std::size_t at(int row, int ld) {
  return static_cast<std::size_t>(row) * static_cast<std::size_t>(ld);
}

float sum_lanes(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// y[o] = Σ_j values[j] · x[col_idx[j]] over row o's nonzeros, for every row.
void rows_dot(const CsrMatrix& w, const float* x, float* y) {
  const std::int32_t* col = w.col_idx.data();
  const float* val = w.values.data();
  for (int o = 0; o < w.rows; ++o) {
    std::int32_t j = w.row_ptr[static_cast<std::size_t>(o)];
    const std::int32_t end = w.row_ptr[static_cast<std::size_t>(o) + 1];
    __m256 acc = _mm256_setzero_ps();
    for (; j + kLanes <= end; j += kLanes) {
      // Eight scalar loads assembled into a vector (vmovss + vinsertps): measured 1.3–1.9×
      // faster than vgatherdps on this AMD EPYC (Zen), whose gathers are microcoded.
      const __m256 xs = _mm256_setr_ps(x[col[j]], x[col[j + 1]], x[col[j + 2]], x[col[j + 3]],
                                       x[col[j + 4]], x[col[j + 5]], x[col[j + 6]], x[col[j + 7]]);
      acc = _mm256_fmadd_ps(_mm256_loadu_ps(val + j), xs, acc);
    }
    float tail = 0.0f;
    for (; j < end; ++j) tail = std::fma(val[j], x[col[j]], tail);
    y[o] = sum_lanes(acc) + tail;
  }
}

// dst[c][r] = src[r][c] for r < rows, c < cols: 8 × 8 blocks in registers, scalar edges.
void transpose8x8(const float* src, std::size_t ld_src, float* dst, std::size_t ld_dst) {
  const __m256 r0 = _mm256_loadu_ps(src + 0 * ld_src);
  const __m256 r1 = _mm256_loadu_ps(src + 1 * ld_src);
  const __m256 r2 = _mm256_loadu_ps(src + 2 * ld_src);
  const __m256 r3 = _mm256_loadu_ps(src + 3 * ld_src);
  const __m256 r4 = _mm256_loadu_ps(src + 4 * ld_src);
  const __m256 r5 = _mm256_loadu_ps(src + 5 * ld_src);
  const __m256 r6 = _mm256_loadu_ps(src + 6 * ld_src);
  const __m256 r7 = _mm256_loadu_ps(src + 7 * ld_src);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1);
  const __m256 t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3);
  const __m256 t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5);
  const __m256 t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7);
  const __m256 t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44);
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, 0xee);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44);
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, 0xee);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44);
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, 0xee);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44);
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, 0xee);
  _mm256_storeu_ps(dst + 0 * ld_dst, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + 1 * ld_dst, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * ld_dst, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * ld_dst, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * ld_dst, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * ld_dst, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * ld_dst, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * ld_dst, _mm256_permute2f128_ps(s3, s7, 0x31));
}

void transpose(const float* src, int ld_src, int rows, int cols, float* dst, int ld_dst) {
  const int rows8 = rows / kLanes * kLanes;
  const int cols8 = cols / kLanes * kLanes;
  for (int r = 0; r < rows8; r += kLanes) {
    for (int c = 0; c < cols8; c += kLanes) {
      transpose8x8(
          src + at(r, ld_src) + static_cast<std::size_t>(c), static_cast<std::size_t>(ld_src),
          dst + at(c, ld_dst) + static_cast<std::size_t>(r), static_cast<std::size_t>(ld_dst));
    }
    for (int c = cols8; c < cols; ++c) {
      for (int i = r; i < r + kLanes; ++i)
        dst[at(c, ld_dst) + static_cast<std::size_t>(i)] =
            src[at(i, ld_src) + static_cast<std::size_t>(c)];
    }
  }
  for (int r = rows8; r < rows; ++r) {
    for (int c = 0; c < cols; ++c)
      dst[at(c, ld_dst) + static_cast<std::size_t>(r)] =
          src[at(r, ld_src) + static_cast<std::size_t>(c)];
  }
}

// dst_panel[o][0 .. 8V) = Σ_j values[j] · panel[col_idx[j]][0 .. 8V) for every row o.
// Narrow panels (V < 4) would leave one dependent FMA chain per vector, bound by the FMA
// latency; they spread consecutive nonzeros over kChains sets of accumulators instead, so that
// about 4 to 8 independent chains are in flight at any width.
template <int V>
void panel_rows(const CsrMatrix& w, const float* panel, float* dst_panel) {
  constexpr int kWidth = V * kLanes;
  constexpr int kChains = V >= 4 ? 1 : (V == 1 ? 4 : 2);
  const std::int32_t* col = w.col_idx.data();
  const float* val = w.values.data();
  for (int o = 0; o < w.rows; ++o) {
    __m256 acc[kChains][V];
    for (int c = 0; c < kChains; ++c) {
      for (int v = 0; v < V; ++v) acc[c][v] = _mm256_setzero_ps();
    }
    std::int32_t j = w.row_ptr[static_cast<std::size_t>(o)];
    const std::int32_t end = w.row_ptr[static_cast<std::size_t>(o) + 1];
    for (; j + kChains <= end; j += kChains) {
      for (int c = 0; c < kChains; ++c) {
        const __m256 weight = _mm256_broadcast_ss(val + j + c);
        const float* x = panel + at(col[j + c], kWidth);
        for (int v = 0; v < V; ++v) {
          acc[c][v] = _mm256_fmadd_ps(weight, _mm256_loadu_ps(x + v * kLanes), acc[c][v]);
        }
      }
    }
    for (; j < end; ++j) {
      const __m256 weight = _mm256_broadcast_ss(val + j);
      const float* x = panel + at(col[j], kWidth);
      for (int v = 0; v < V; ++v) {
        acc[0][v] = _mm256_fmadd_ps(weight, _mm256_loadu_ps(x + v * kLanes), acc[0][v]);
      }
    }
    float* y = dst_panel + at(o, kWidth);
    for (int v = 0; v < V; ++v) {
      __m256 sum = acc[0][v];
      for (int c = 1; c < kChains; ++c) sum = _mm256_add_ps(sum, acc[c][v]);
      _mm256_storeu_ps(y + v * kLanes, sum);
    }
  }
}

void panel_rows(int vectors, const CsrMatrix& w, const float* panel, float* dst_panel) {
  switch (vectors) {
    case 1:
      return panel_rows<1>(w, panel, dst_panel);
    case 2:
      return panel_rows<2>(w, panel, dst_panel);
    case 3:
      return panel_rows<3>(w, panel, dst_panel);
    case 4:
      return panel_rows<4>(w, panel, dst_panel);
    case 5:
      return panel_rows<5>(w, panel, dst_panel);
    case 6:
      return panel_rows<6>(w, panel, dst_panel);
    case 7:
      return panel_rows<7>(w, panel, dst_panel);
    default:
      return panel_rows<8>(w, panel, dst_panel);
  }
}

void spmm_panels(const SpmmArgs& args, SpmmScratch& scratch) {
  const CsrMatrix& w = *args.weights;
  const std::size_t row_bytes =
      static_cast<std::size_t>(std::max(w.cols, 1)) * kLanes * sizeof(float);
  const int max_vectors =
      static_cast<int>(std::clamp<std::size_t>(kPanelBytes / row_bytes, 1, kMaxPanelVectors));
  const std::size_t max_width = static_cast<std::size_t>(max_vectors) * kLanes;
  if (scratch.src_panel.size() < static_cast<std::size_t>(w.cols) * max_width) {
    scratch.src_panel.resize(static_cast<std::size_t>(w.cols) * max_width);
  }
  if (scratch.dst_panel.size() < static_cast<std::size_t>(w.rows) * max_width) {
    scratch.dst_panel.resize(static_cast<std::size_t>(w.rows) * max_width);
  }
  if (scratch.staging.size() < at(kLanes, w.cols)) scratch.staging.resize(at(kLanes, w.cols));
  float* panel = scratch.src_panel.data();
  float* dst_panel = scratch.dst_panel.data();
  for (int b0 = 0; b0 < args.batch; b0 += max_vectors * kLanes) {
    const int rows = std::min(max_vectors * kLanes, args.batch - b0);
    const int vectors = (rows + kLanes - 1) / kLanes;
    const int width = vectors * kLanes;
    // Whole groups of 8 rows transpose in registers; a last group of 1..7 rows goes through a
    // zero-padded 8-row copy, so it does too (row by row, the scalar edge was measured to cost
    // as much as the product itself at batch 2..7), and the panel's spare columns come out zero.
    const int whole = rows / kLanes * kLanes;
    transpose(args.src + at(b0, args.ld_src), args.ld_src, whole, w.cols, panel, width);
    if (whole < rows) {
      float* staging = scratch.staging.data();
      std::fill(staging, staging + at(kLanes, w.cols), 0.0f);
      for (int r = whole; r < rows; ++r) {
        std::copy_n(args.src + at(b0 + r, args.ld_src), w.cols, staging + at(r - whole, w.cols));
      }
      transpose(staging, w.cols, kLanes, w.cols, panel + whole, width);
    }
    panel_rows(vectors, w, panel, dst_panel);
    transpose(dst_panel, width, w.rows, rows, args.dst + at(b0, args.ld_dst), args.ld_dst);
  }
}

}  // namespace

void spmm_csr_avx2(const SpmmArgs& args) {
  if (args.batch <= 0 || args.weights->rows == 0) return;
  if (args.batch < kPanelMinBatch) {
    for (int b = 0; b < args.batch; ++b) {
      rows_dot(*args.weights, args.src + at(b, args.ld_src), args.dst + at(b, args.ld_dst));
    }
    return;
  }
  thread_local SpmmScratch own;
  spmm_panels(args, args.scratch != nullptr ? *args.scratch : own);
}

}  // namespace lowbit::kernels
