// The NEON kernels (arm64). dispatch.c uses them only after asking the operating system whether the CPU
// has Advanced SIMD (recur_isa_available).
#if defined(__aarch64__)

#include "kernels_internal.h"
#include <arm_neon.h>

typedef float32x4_t VF;
typedef uint32x4_t VM;
#define VL 4
#define V_SET1(x) vdupq_n_f32(x)
#define V_LOAD(p) vld1q_f32(p)
#define V_STORE(p, v) vst1q_f32(p, v)
#define V_ADD vaddq_f32
#define V_SUB vsubq_f32
#define V_MUL vmulq_f32
#define V_DIV vdivq_f32
#define V_SQRT vsqrtq_f32
#define V_MAX vmaxq_f32
#define V_MIN vminq_f32
#define V_ABS vabsq_f32
#define V_FMA(a, b, c) vfmaq_f32(c, a, b)
#define V_FNMA(a, b, c) vfmsq_f32(c, a, b)
#define V_ROUND vrndnq_f32
#define V_POW2I(n) vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23))
#define V_GT vcgtq_f32
#define V_GE vcgeq_f32
#define V_SELECT(m, a, b) vbslq_f32(m, a, b)
#define V_HSUM vaddvq_f32
typedef uint32x4_t VI;
#define VI_SET1(x) vdupq_n_u32(x)
#define VI_LOAD(p) vld1q_u32(p)
#define VI_ADD vaddq_u32
#define VI_XOR veorq_u32
#define VI_MUL vmulq_u32
#define VI_SHR(x, n) vshrq_n_u32(x, n)
#define VI_ULT vcltq_u32
#define V_HMAX vmaxvq_f32

// MARK: - GEMM micro-kernel: 8 x 12, twenty-four accumulators

// The register tile is chosen for arm64's 32 vector registers of 4 float lanes: an 8 x 12 tile of C is
// 24 accumulators (8 rows x 3 vectors), and one step of k needs 3 registers for a row of the B panel and
// 2 for a column of the A panel, whose values the FMAs take from a lane (vfmaq_laneq_f32, no broadcast):
// 29 of the 32 registers, nothing spilled. Each step is 24 FMAs for 5 loads, and 24 independent
// accumulators keep 4 FMA pipes of latency 4 busy (16 would be the least). The shape is justified
// against an Apple core's peak in HowRecurIsFast.md.
#define MR 8
#define NR 12

#define RECUR_ROW(r, av, lane)                                                                              \
  c##r##0 = vfmaq_laneq_f32(c##r##0, b0, av, lane);                                                         \
  c##r##1 = vfmaq_laneq_f32(c##r##1, b1, av, lane);                                                         \
  c##r##2 = vfmaq_laneq_f32(c##r##2, b2, av, lane);
#define RECUR_STORE_ROW(r)                                                                                  \
  vst1q_f32(acc + (r) * NR, c##r##0);                                                                       \
  vst1q_f32(acc + (r) * NR + 4, c##r##1);                                                                   \
  vst1q_f32(acc + (r) * NR + 8, c##r##2);

// acc[r * NR + c] = sum_p ap[p * MR + r] * bp[p * NR + c], one fused multiply-add per step in p order: the
// contract of micro_generic in simd_template.h, with the same roundings.
static void micro_8x12(long kc, const float *ap, const float *bp, float *acc) {
  float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
  float32x4_t c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
  float32x4_t c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
  float32x4_t c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
  for (long p = 0; p < kc; p++) {
    float32x4_t a0 = vld1q_f32(ap), a1 = vld1q_f32(ap + 4);
    float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8);
    RECUR_ROW(0, a0, 0)
    RECUR_ROW(1, a0, 1)
    RECUR_ROW(2, a0, 2)
    RECUR_ROW(3, a0, 3)
    RECUR_ROW(4, a1, 0)
    RECUR_ROW(5, a1, 1)
    RECUR_ROW(6, a1, 2)
    RECUR_ROW(7, a1, 3)
    ap += MR;
    bp += NR;
  }
  RECUR_STORE_ROW(0)
  RECUR_STORE_ROW(1)
  RECUR_STORE_ROW(2)
  RECUR_STORE_ROW(3)
  RECUR_STORE_ROW(4)
  RECUR_STORE_ROW(5)
  RECUR_STORE_ROW(6)
  RECUR_STORE_ROW(7)
}
#define MICRO_KERNEL micro_8x12

// The same sums for tiles of at most 4 rows (edges and small batches), 12 accumulators; acc rows 4 to 7
// are not written.
static void micro_4x12(long kc, const float *ap, const float *bp, float *acc) {
  float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
  float32x4_t c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
  for (long p = 0; p < kc; p++) {
    float32x4_t a0 = vld1q_f32(ap);
    float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8);
    RECUR_ROW(0, a0, 0)
    RECUR_ROW(1, a0, 1)
    RECUR_ROW(2, a0, 2)
    RECUR_ROW(3, a0, 3)
    ap += MR;
    bp += NR;
  }
  RECUR_STORE_ROW(0)
  RECUR_STORE_ROW(1)
  RECUR_STORE_ROW(2)
  RECUR_STORE_ROW(3)
}
#define MICRO_KERNEL_4 micro_4x12
#undef RECUR_ROW
#undef RECUR_STORE_ROW

#define KERNEL_NAME "neon"
#define KERNEL_TABLE recur_neon_kernels
#include "simd_template.h"

#endif
