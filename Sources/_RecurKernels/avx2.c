// The AVX2+FMA kernels (x86_64). Every function in this file is compiled for avx2,fma through the pragma
// below; dispatch.c calls them only after checking the CPU, so the package needs no -mavx2 flag.
#if defined(__x86_64__) || defined(_M_X64)

#include "kernels_internal.h"
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

typedef __m256 VF;
typedef __m256 VM;
#define VL 8
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_SQRT _mm256_sqrt_ps
#define V_MAX _mm256_max_ps
#define V_MIN _mm256_min_ps
#define V_ABS(x) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x)
#define V_FMA _mm256_fmadd_ps
#define V_FNMA _mm256_fnmadd_ps
#define V_ROUND(x) _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_POW2I(n) \
  _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))
#define V_GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define V_GE(a, b) _mm256_cmp_ps(a, b, _CMP_GE_OQ)
#define V_SELECT(m, a, b) _mm256_blendv_ps(b, a, m)
#define V_HSUM hsum8
typedef __m256i VI;
#define VI_SET1(x) _mm256_set1_epi32((int)(x))
#define VI_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define VI_ADD _mm256_add_epi32
#define VI_XOR _mm256_xor_si256
#define VI_MUL _mm256_mullo_epi32
#define VI_SHR(x, n) _mm256_srli_epi32(x, n)
// AVX2 compares signed integers only: flipping both sign bits turns a < b unsigned into a < b signed.
#define VI_ULT(a, b) \
  _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_xor_si256(b, _mm256_set1_epi32(INT32_MIN)), \
                                         _mm256_xor_si256(a, _mm256_set1_epi32(INT32_MIN))))
#define V_HMAX hmax8

static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline float hmax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// MARK: - GEMM micro-kernel: 6 x 16, twelve accumulators

#define MR 6
#define NR 16

static void micro_6x16(long kc, const float *ap, const float *bp, float *acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#define RECUR_STEP(o)                                                                                       \
  {                                                                                                         \
    __m256 b0 = _mm256_load_ps(bp + (o) * 16), b1 = _mm256_load_ps(bp + (o) * 16 + 8), av;                  \
    av = _mm256_broadcast_ss(ap + (o) * 6 + 0);                                                             \
    c00 = _mm256_fmadd_ps(av, b0, c00);                                                                     \
    c01 = _mm256_fmadd_ps(av, b1, c01);                                                                     \
    av = _mm256_broadcast_ss(ap + (o) * 6 + 1);                                                             \
    c10 = _mm256_fmadd_ps(av, b0, c10);                                                                     \
    c11 = _mm256_fmadd_ps(av, b1, c11);                                                                     \
    av = _mm256_broadcast_ss(ap + (o) * 6 + 2);                                                             \
    c20 = _mm256_fmadd_ps(av, b0, c20);                                                                     \
    c21 = _mm256_fmadd_ps(av, b1, c21);                                                                     \
    av = _mm256_broadcast_ss(ap + (o) * 6 + 3);                                                             \
    c30 = _mm256_fmadd_ps(av, b0, c30);                                                                     \
    c31 = _mm256_fmadd_ps(av, b1, c31);                                                                     \
    av = _mm256_broadcast_ss(ap + (o) * 6 + 4);                                                             \
    c40 = _mm256_fmadd_ps(av, b0, c40);                                                                     \
    c41 = _mm256_fmadd_ps(av, b1, c41);                                                                     \
    av = _mm256_broadcast_ss(ap + (o) * 6 + 5);                                                             \
    c50 = _mm256_fmadd_ps(av, b0, c50);                                                                     \
    c51 = _mm256_fmadd_ps(av, b1, c51);                                                                     \
  }
  long p = 0;
  for (; p + 4 <= kc; p += 4) {
    _mm_prefetch((const char *)(bp + 16 * 16), _MM_HINT_T0);
    RECUR_STEP(0) RECUR_STEP(1) RECUR_STEP(2) RECUR_STEP(3)
    ap += 4 * 6;
    bp += 4 * 16;
  }
  for (; p < kc; p++) {
    RECUR_STEP(0)
    ap += 6;
    bp += 16;
  }
#undef RECUR_STEP
  _mm256_store_ps(acc + 0, c00);
  _mm256_store_ps(acc + 8, c01);
  _mm256_store_ps(acc + 16, c10);
  _mm256_store_ps(acc + 24, c11);
  _mm256_store_ps(acc + 32, c20);
  _mm256_store_ps(acc + 40, c21);
  _mm256_store_ps(acc + 48, c30);
  _mm256_store_ps(acc + 56, c31);
  _mm256_store_ps(acc + 64, c40);
  _mm256_store_ps(acc + 72, c41);
  _mm256_store_ps(acc + 80, c50);
  _mm256_store_ps(acc + 88, c51);
}
#define MICRO_KERNEL micro_6x16

// The same sums for tiles of at most 4 rows (edges and small batches): eight accumulators still cover
// the FMA latency, and the two rows the 6 x 16 kernel would compute in vain are skipped. acc rows 4 and 5
// are not written.
static void micro_4x16(long kc, const float *ap, const float *bp, float *acc) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00;
  for (long p = 0; p < kc; p++) {
    __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8), av;
    av = _mm256_broadcast_ss(ap + 0);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(ap + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(ap + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(ap + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    ap += 6;
    bp += 16;
  }
  _mm256_store_ps(acc + 0, c00);
  _mm256_store_ps(acc + 8, c01);
  _mm256_store_ps(acc + 16, c10);
  _mm256_store_ps(acc + 24, c11);
  _mm256_store_ps(acc + 32, c20);
  _mm256_store_ps(acc + 40, c21);
  _mm256_store_ps(acc + 48, c30);
  _mm256_store_ps(acc + 56, c31);
}
#define MICRO_KERNEL_4 micro_4x16

// Packs a panel of op(B) = B^T (B stored N x K): 8 x 8 blocks are transposed in registers.
static void pack_b_transposed_avx2(const float *b, long ldb, long j, long nr, long p0, long kc, float *out);
#define PACK_B_TRANSPOSED pack_b_transposed_avx2

#define KERNEL_NAME "avx2+fma"
#define KERNEL_TABLE recur_avx2_kernels
#include "simd_template.h"

static inline void transpose8(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

static void pack_b_transposed_avx2(const float *b, long ldb, long j, long nr, long p0, long kc, float *out) {
  if (nr < NR) {
    pack_b_transposed_generic(b, ldb, j, nr, p0, kc, out);
    return;
  }
  long p = 0;
  for (; p + 8 <= kc; p += 8) {
    for (long half = 0; half < 2; half++) {
      __m256 r[8];
      for (long q = 0; q < 8; q++) r[q] = _mm256_loadu_ps(b + (j + half * 8 + q) * ldb + p0 + p);
      transpose8(r);
      for (long q = 0; q < 8; q++) _mm256_store_ps(out + (p + q) * NR + half * 8, r[q]);
    }
  }
  for (; p < kc; p++)
    for (long c = 0; c < NR; c++) out[p * NR + c] = b[(j + c) * ldb + p0 + p];
}

#pragma clang attribute pop

#endif
