// The table of single-precision kernels that one instruction set provides; dispatch.c picks one table
// at first use. Private to the C target.
#ifndef RECUR_KERNELS_INTERNAL_H
#define RECUR_KERNELS_INTERNAL_H

#include "recur_kernels.h"
#include <pthread.h>
#include <stdint.h>

typedef struct {
  /// What the table is and how its GEMM is cut (for the kernel harness, Tests/KernelHarness, which derives
  /// its edge shapes from them): the register tile (mr rows x nr columns of C), the largest block of K,
  /// the rows of a block of op(A), the columns of a block of op(B) (and when all rows fit one A block).
  /// The scalar table has no tile (0).
  const char *name;
  long mr, nr, kc_max, mc_block, nc_block, nc_block_few_rows;
  void (*activate)(long n, recur_activation act, const float *x, float *y);
  void (*activate_backward)(long n, recur_activation act, const float *y, const float *dy, float *dx);
  /// C[i0:i1, j0:j1] of the product C = alpha op(A) op(B) + beta C with the full shape (m, n, k): every
  /// element is computed the same way whatever the slice, so slices can run on different threads.
  /// Returns RECUR_STATUS_OK, or RECUR_STATUS_NO_MEMORY (C untouched or partly written) when scratch
  /// memory could not be had; so do gemm_packed_slice and gemv.
  recur_status (*gemm_slice)(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                     const float *b, long ldb, float beta, float *c, long ldc, long i0, long i1, long j0,
                     long j1);
  /// GEMM with op(B) packed once (see recur_sgemm_pack_b): the packed size in floats, the packing, and a
  /// slice of the product; j0 of a slice is a multiple of every register tile width.
  long (*packed_b_size)(long n, long k);
  void (*pack_b_whole)(int trans_b, long n, long k, const float *b, long ldb, float *packed);
  recur_status (*gemm_packed_slice)(int trans_a, long m, long n, long k, float alpha, const float *a, long lda,
                            const float *packed, float beta, float *c, long ldc, long i0, long i1, long j0,
                            long j1);
  recur_status (*gemv)(int trans_a, long m, long n, float alpha, const float *a, long lda, const float *x, float beta,
               float *y);
  void (*add_row_vector)(long rows, long width, const float *bias, float beta, float *c, long ldc);
  void (*sum_rows)(long rows, long width, const float *a, long lda, float *out);
  void (*rnn_forward)(long batch, long hidden, recur_activation act, const float *xp, const float *hp, float *h);
  void (*rnn_backward)(long batch, long hidden, recur_activation act, const float *h, const float *dh,
                       float *dpre);
  void (*gated_forward)(long batch, long hidden, recur_activation act, const float *xp, const float *hp,
                        const float *h_prev, float *h, float *cache);
  void (*gated_backward)(long batch, long hidden, recur_activation act, const float *cache, const float *h_prev,
                         const float *dh, float *dpre, float *dh_prev);
  void (*lstm_forward)(long batch, long hidden, const float *xp, const float *hp, const float *c_prev, float *c,
                       float *h, float *gates);
  void (*lstm_backward)(long batch, long hidden, const float *gates, const float *c_prev, const float *c,
                        const float *dh, const float *dc, float *dgates, float *dc_prev);
  void (*gru_forward)(long batch, long hidden, const float *xp, const float *hp, const float *h_prev, float *h,
                      float *cache);
  void (*gru_backward)(long batch, long hidden, const float *cache, const float *h_prev, const float *dh,
                       float *dxp, float *dhp, float *dh_prev);
  void (*softmax)(long rows, long vocab, const float *logits, float *probs);
  double (*softmax_xent)(long rows, long vocab, const float *logits, const int32_t *targets,
                         const float *weights, float scale, float *dlogits);
  void (*adam)(long n, float *param, const float *grad, float *m, float *v, float lr, float beta1, float beta2,
               float eps, float weight_decay, int decoupled, float bias_correction1, float bias_correction2);
  void (*lerp)(long n, float *average, const float *value, float weight);
  void (*shared_mask)(long n, uint64_t seed, double keep, const float *weight, float *mask, float *dropped);
} recur_f32_kernels;

extern const recur_f32_kernels recur_scalar_kernels;
#if defined(__x86_64__) || defined(_M_X64)
extern const recur_f32_kernels recur_avx2_kernels;
#endif
#if defined(__aarch64__)
extern const recur_f32_kernels recur_neon_kernels;
#endif

/// The table of `isa` when this build has it and this CPU can run it (whatever RECUR_ISA says), else NULL.
const recur_f32_kernels *recur_kernels_for(recur_isa isa);

// MARK: - The thread split of a GEMM, written once

/// The slice of C that part `part` of `parts` computes: rows [first, last) of C when `rows` is non-zero,
/// else columns [first, last). The longer side of C is cut into whole grains of RECUR_SLICE_GRAIN (a
/// multiple of every register tile), from the shape alone, so plain and packed GEMM, and every part count,
/// compute each element of C the same way. An empty slice has first >= last.
typedef struct {
  int rows;
  long first, last;
} recur_gemm_slice_range;

/// Slices are whole multiples of this many rows or columns (a multiple of every register tile: 6, 8, 12, 16).
#define RECUR_SLICE_GRAIN 48

recur_gemm_slice_range recur_gemm_part_range(long m, long n, long part, long parts);

// MARK: - The rule of a dropout mask shared by a batch, written once (see recur_shared_mask_f32)

/// lowbias32 (C. Wellons' hash prospector): a bijection of 32-bit integers with two multiplies.
static inline uint32_t recur_mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  return x ^ (x >> 16);
}

/// The hash that decides element i of a shared mask keyed by `seed`: mix32(mix32(i ^ lo) ^ hi).
static inline uint32_t recur_shared_mask_hash(uint64_t seed, uint32_t i) {
  return recur_mix32(recur_mix32(i ^ (uint32_t)seed) ^ (uint32_t)(seed >> 32));
}

/// round(keep * 2^32), ties up, as a 64-bit integer: 0 for keep <= 0 (or NaN), 2^32 (everything kept) for
/// keep >= 1. keep * 2^32 and the added 1/2 are exact in a double below 2^32, so the floor is the rounding.
static inline uint64_t recur_keep_threshold(double keep) {
  if (!(keep > 0)) return 0;
  if (keep >= 1) return (uint64_t)1 << 32;
  return (uint64_t)(keep * 4294967296.0 + 0.5);
}

#endif
