// The kernels' own test harness: checks every entry of each vectorized kernel table this CPU can run
// (AVX2+FMA on x86_64, NEON on arm64) against the scalar table, on random inputs and on the shapes that hit
// every edge of the vector length, the register tile and the cache blocks, which it reads from the table.
//
// Built and run by scripts/check-kernels.sh: natively on x86_64 and cross-built for aarch64 Linux, run
// under qemu-aarch64. It is not part of any SwiftPM target (SwiftPM compiles only the targets that
// Package.swift declares). Exit status 0 when every check passes, 1 otherwise.
//
//   kernel_harness                 check every table this CPU and build can run
//   kernel_harness --require ISA   ... and fail when table ISA (avx2, neon) is not among them
//   kernel_harness --expect ISA    check only the dispatch: recur_isa_name() is ISA (run with RECUR_ISA set)
//                                  and the dispatched GEMM is that table's, bitwise
//
// Tolerances, per kernel (|vector - scalar| per element; "bitwise" compares the bit patterns):
//   GEMM, GEMV              (k + 2) * 2^-23 * (|alpha| sum_p |a_ip b_pj| + |beta c_ij|), the rounding bound
//                           of a k-term dot product in any order; elements of C outside the product: bitwise
//   GEMM split into parts   bitwise against the same table's whole product (any part count, threads)
//   packed GEMM             bitwise against the same table's GEMM when M, N > 1 (gemv path otherwise), and
//                           the GEMM bound against scalar
//   add_row_vector, sum_rows, activations identity and relu (forward and backward)   bitwise
//   activations tanh, sigmoid      1e-6 |scalar| + 1e-37 (exp: 1.7e-7 relative; subnormals flushed)
//   backward activations, cells    2e-6 |scalar| + 2e-6 (products of O(1) values, 1 - y*y cancels)
//   softmax                 1e-5 |scalar| + 1e-9 (the vocabulary is summed in lanes, not in order)
//   softmax cross-entropy   loss: 1e-6 |scalar| + 1e-6 per row and unit weight (log of the sum of exps,
//                           whose relative error is the loss's absolute one); gradient 1e-5 |scalar| + 1e-7 |scale|
//   Adam                    1e-6 |scalar| + 1e-9 (same operations; fused only where the compiler
//                           contracts the scalar twin)
//   lerp, shared_mask       bitwise (the mask's keep decisions are integer arithmetic; also checked: the kept
//                           share of a 2^20-element mask is within 6 standard deviations of keep)
#include "kernels_internal.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// MARK: - Bookkeeping

static long failures, checks;
static int quiet;  // set while the harness checks its own comparators
static const char *table_name = "?";
static char current[256];  // the case being run, printed if it crashes

static void set_case(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(current, sizeof(current), fmt, args);
  va_end(args);
}

static void fail(const char *fmt, ...) {
  failures++;
  if (failures > 40 || quiet) return;
  va_list args;
  va_start(args, fmt);
  printf("FAIL [%s] %s: ", table_name, current);
  vprintf(fmt, args);
  printf("\n");
  va_end(args);
}

static void on_crash(int sig) {
  char line[400];
  int len = snprintf(line, sizeof(line), "CRASH (signal %d) [%s] %s\n", sig, table_name, current);
  if (len > 0) (void)!write(2, line, (size_t)len);
  _exit(1);
}

// MARK: - Random numbers (splitmix64)

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_u64(void) {
  uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next_u64() >> 40) * 0x1.0p-24); }

static void fill(float *p, long n, float lo, float hi) {
  for (long i = 0; i < n; i++) p[i] = uniform(lo, hi);
}

// MARK: - Buffers that end at an inaccessible page

// A read or write one element past the end of a buffer crashes (and the handler names the case), which a
// comparison of results would not notice. `count` may be 0.
static float *guarded(long count) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = (size_t)count * sizeof(float);
  size_t pages = (bytes + page - 1) / page;
  char *base = mmap(NULL, (pages + 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED || mprotect(base + pages * page, page, PROT_NONE) != 0) {
    perror("mmap");
    exit(2);
  }
  return (float *)(base + pages * page - bytes);
}

static void release(float *p, long count) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = (size_t)count * sizeof(float);
  size_t pages = (bytes + page - 1) / page;
  munmap((char *)p + bytes - pages * page, (pages + 1) * page);
}

static float *guarded_copy(const float *src, long count) {
  float *p = guarded(count);
  if (count > 0) memcpy(p, src, (size_t)count * sizeof(float));
  return p;
}

// MARK: - Comparisons

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof(float)) == 0; }

// Every element within abs_tol + rel_tol * |want| (NaN only where want is NaN); both zero: bitwise.
static int expect_close(const char *what, const float *got, const float *want, long n, double abs_tol,
                        double rel_tol) {
  checks++;
  for (long i = 0; i < n; i++) {
    double g = got[i], w = want[i];
    int ok;
    if (abs_tol == 0 && rel_tol == 0)
      ok = same_bits(got[i], want[i]);
    else if (isnan(w) || isnan(g))
      ok = isnan(w) && isnan(g);
    else
      ok = fabs(g - w) <= abs_tol + rel_tol * fabs(w);
    if (!ok) {
      fail("%s[%ld] = %.9g, scalar %.9g (tolerance %.3g + %.3g |scalar|)", what, i, g, w, abs_tol, rel_tol);
      return 0;
    }
  }
  return 1;
}

static int expect_bitwise(const char *what, const float *got, const float *want, long n) {
  return expect_close(what, got, want, n, 0, 0);
}

// MARK: - GEMM

typedef struct {
  int ta, tb;
  long m, n, k, lda, ldb, ldc;
  float alpha, beta;
  float *a, *b, *c;  // inputs (C's initial value)
  long a_count, b_count, c_count;
} gemm_problem;

// op(A) is m x k, op(B) k x n; each stored row is followed by `pad` unused elements except the last, so the
// buffers end exactly where the last row does.
static gemm_problem gemm_make(int ta, int tb, long m, long n, long k, long pad, float alpha, float beta,
                              int nan_c) {
  gemm_problem p = {ta, tb, m, n, k, 0, 0, 0, alpha, beta, NULL, NULL, NULL, 0, 0, 0};
  long a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  p.lda = a_cols + pad;
  p.ldb = b_cols + (pad + 2) % 4;
  p.ldc = n + (pad + 1) % 4;
  p.a_count = a_rows > 0 ? (a_rows - 1) * p.lda + a_cols : 0;
  p.b_count = b_rows > 0 ? (b_rows - 1) * p.ldb + b_cols : 0;
  p.c_count = (m - 1) * p.ldc + n;
  p.a = guarded(p.a_count);
  p.b = guarded(p.b_count);
  p.c = guarded(p.c_count);
  fill(p.a, p.a_count, -1, 1);
  fill(p.b, p.b_count, -1, 1);
  fill(p.c, p.c_count, -1, 1);
  if (nan_c)
    for (long i = 0; i < m; i++)
      for (long j = 0; j < n; j++) p.c[i * p.ldc + j] = NAN;
  return p;
}

static void gemm_free(gemm_problem *p) {
  release(p->a, p->a_count);
  release(p->b, p->b_count);
  release(p->c, p->c_count);
}

// Checks C against the scalar product with the per-element rounding bound; elements between rows bitwise.
static void expect_gemm_close(const char *what, const gemm_problem *p, const float *got, const float *want) {
  checks++;
  double gamma = (double)(p->k + 2) * 0x1.0p-23;
  for (long i = 0; i < p->m; i++) {
    for (long j = 0; j < p->ldc && i * p->ldc + j < p->c_count; j++) {
      long at = i * p->ldc + j;
      int ok;
      double bound = 0;
      if (j >= p->n) {
        ok = same_bits(got[at], want[at]);
      } else {
        double s = 0;
        for (long q = 0; q < p->k; q++) {
          double av = p->ta ? p->a[q * p->lda + i] : p->a[i * p->lda + q];
          double bv = p->tb ? p->b[j * p->ldb + q] : p->b[q * p->ldb + j];
          s += fabs(av * bv);
        }
        double prior = p->beta == 0 ? 0 : fabs((double)p->beta * p->c[at]);
        bound = gamma * (fabs((double)p->alpha) * s + prior) + 1e-30;
        ok = !isnan(got[at]) && fabs((double)got[at] - (double)want[at]) <= bound;
      }
      if (!ok) {
        fail("%s C[%ld, %ld] = %.9g, scalar %.9g (bound %.3g)", what, i, j, got[at], want[at], bound);
        return;
      }
    }
  }
}

static float *run_gemm(const recur_f32_kernels *t, const gemm_problem *p) {
  float *c = guarded_copy(p->c, p->c_count);
  recur_status s = t->gemm_slice(p->ta, p->tb, p->m, p->n, p->k, p->alpha, p->a, p->lda, p->b, p->ldb, p->beta, c,
                                 p->ldc, 0, p->m, 0, p->n);
  if (s != RECUR_STATUS_OK) fail("gemm_slice returned status %d", (int)s);
  return c;
}

static float *run_gemm_parts(const recur_f32_kernels *t, const gemm_problem *p, long parts) {
  float *c = guarded_copy(p->c, p->c_count);
  for (long part = 0; part < parts; part++) {
    recur_gemm_slice_range r = recur_gemm_part_range(p->m, p->n, part, parts);
    if (r.first >= r.last) continue;
    long i0 = r.rows ? r.first : 0, i1 = r.rows ? r.last : p->m;
    long j0 = r.rows ? 0 : r.first, j1 = r.rows ? p->n : r.last;
    t->gemm_slice(p->ta, p->tb, p->m, p->n, p->k, p->alpha, p->a, p->lda, p->b, p->ldb, p->beta, c, p->ldc, i0, i1,
                  j0, j1);
  }
  return c;
}

static float *pack(const recur_f32_kernels *t, const gemm_problem *p) {
  void *packed = NULL;
  if (posix_memalign(&packed, 64, (size_t)t->packed_b_size(p->n, p->k) * sizeof(float)) != 0) exit(2);
  t->pack_b_whole(p->tb, p->n, p->k, p->b, p->ldb, packed);
  return packed;
}

static float *run_packed_parts(const recur_f32_kernels *t, const gemm_problem *p, const float *packed, long parts) {
  float *c = guarded_copy(p->c, p->c_count);
  for (long part = 0; part < parts; part++) {
    recur_gemm_slice_range r = recur_gemm_part_range(p->m, p->n, part, parts);
    if (r.first >= r.last) continue;
    long i0 = r.rows ? r.first : 0, i1 = r.rows ? r.last : p->m;
    long j0 = r.rows ? 0 : r.first, j1 = r.rows ? p->n : r.last;
    recur_status s = t->gemm_packed_slice(p->ta, p->m, p->n, p->k, p->alpha, p->a, p->lda, packed, p->beta, c,
                                          p->ldc, i0, i1, j0, j1);
    if (s != RECUR_STATUS_OK) fail("gemm_packed_slice returned status %d", (int)s);
  }
  return c;
}

static void gemm_case(const recur_f32_kernels *t, int ta, int tb, long m, long n, long k, float alpha, float beta,
                      int nan_c) {
  set_case("gemm %c%c m=%ld n=%ld k=%ld alpha=%g beta=%g%s", ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, beta,
           nan_c ? " (NaN in C)" : "");
  gemm_problem p = gemm_make(ta, tb, m, n, k, (m + 2 * n + 3 * k) % 4, alpha, beta, nan_c);
  float *want = run_gemm(&recur_scalar_kernels, &p);
  float *got = run_gemm(t, &p);
  expect_gemm_close("gemm", &p, got, want);
  for (long parts = 2; parts <= 5; parts += 3) {
    float *split = run_gemm_parts(t, &p, parts);
    expect_bitwise(parts == 2 ? "gemm in 2 parts vs whole" : "gemm in 5 parts vs whole", split, got, p.c_count);
    release(split, p.c_count);
  }
  float *packed = pack(t, &p);
  float *whole = run_packed_parts(t, &p, packed, 1);
  expect_gemm_close("packed gemm", &p, whole, want);
  if (m > 1 && n > 1) expect_bitwise("packed gemm vs gemm", whole, got, p.c_count);
  float *split = run_packed_parts(t, &p, packed, 3);
  expect_bitwise("packed gemm in 3 parts vs whole", split, whole, p.c_count);
  release(split, p.c_count);
  release(whole, p.c_count);
  free(packed);
  release(got, p.c_count);
  release(want, p.c_count);
  gemm_free(&p);
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

// Sorts and removes duplicates and values below `least`; returns the new count.
static int unique(long *v, int n, long least) {
  qsort(v, (size_t)n, sizeof(long), cmp_long);
  int out = 0;
  for (int i = 0; i < n; i++)
    if (v[i] >= least && (out == 0 || v[out - 1] != v[i])) v[out++] = v[i];
  return out;
}

static void check_gemm(const recur_f32_kernels *t) {
  long mr = t->mr, nr = t->nr, kc = t->kc_max;
  // Sizes around the register tile and (for K) the unroll of 4 and the K block.
  long mn[] = {1, 2, 3, 4, 5, mr - 1, mr, mr + 1, nr - 1, nr, nr + 1, 2 * nr + 1, 3 * mr + 2, 37};
  long ks[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 17, kc - 1, kc, kc + 1, 2 * kc + 1};
  int nmn = unique(mn, (int)(sizeof(mn) / sizeof(mn[0])), 1), nks = unique(ks, (int)(sizeof(ks) / sizeof(ks[0])), 0);
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      // Each size appears as m, as n and as k, without the full cartesian product.
      for (int i = 0; i < nmn; i++)
        for (int j = 0; j < nks; j += 3)
          gemm_case(t, ta, tb, mn[i], mn[(i * 3 + j + 4) % nmn], ks[(i * 7 + j + 2) % nks], 0.75f, -1.25f, 0);
      for (int i = 0; i < nmn; i++) gemm_case(t, ta, tb, mn[(i * 5 + 1) % nmn], mn[i], ks[i % nks], 1.0f, 0.0f, 1);
      // Matrix-vector products inside GEMM (m = 1 or n = 1), with strided vector operands.
      gemm_case(t, ta, tb, 1, 300, kc + 1, 0.5f, 1.0f, 0);
      gemm_case(t, ta, tb, 300, 1, kc + 1, 0.5f, 0.0f, 1);
      gemm_case(t, ta, tb, 1, 1, 9, 2.0f, -1.0f, 0);
    }
  // Cache blocks: rows around the A block, columns around both B block widths, K across two blocks.
  for (int ta = 0; ta < 2; ta++) {
    for (long d = -1; d <= 1; d++) gemm_case(t, ta, 1 - ta, t->mc_block + d, nr + 1, 5, 0.75f, -1.25f, 0);
    for (long d = -1; d <= 1; d++) gemm_case(t, ta, ta, mr + 1, t->nc_block_few_rows + d, 3, 0.75f, 1.0f, 0);
    gemm_case(t, ta, 1 - ta, mr + 1, nr + 1, 2 * kc + 1, 0.75f, -1.25f, 0);
  }
  gemm_case(t, 0, 0, t->mc_block + 1, t->nc_block + 1, 2, 0.75f, -1.25f, 0);
  gemm_case(t, 1, 0, t->mc_block + 1, t->nc_block - 1, 3, 0.75f, -1.25f, 0);
  gemm_case(t, 1, 1, t->mc_block + 1, t->nc_block + 1, 2, 1.0f, 0.0f, 1);
}

// MARK: - GEMM parts on threads

typedef struct {
  const recur_f32_kernels *t;
  const gemm_problem *p;
  float *c;
  const float *packed;
  long part, parts;
  recur_status status;
} part_job;

static void *run_part(void *arg) {
  part_job *job = arg;
  const gemm_problem *p = job->p;
  recur_gemm_slice_range r = recur_gemm_part_range(p->m, p->n, job->part, job->parts);
  if (r.first >= r.last) return NULL;
  long i0 = r.rows ? r.first : 0, i1 = r.rows ? r.last : p->m;
  long j0 = r.rows ? 0 : r.first, j1 = r.rows ? p->n : r.last;
  if (job->packed)
    job->status = job->t->gemm_packed_slice(p->ta, p->m, p->n, p->k, p->alpha, p->a, p->lda, job->packed, p->beta,
                                            job->c, p->ldc, i0, i1, j0, j1);
  else
    job->status = job->t->gemm_slice(p->ta, p->tb, p->m, p->n, p->k, p->alpha, p->a, p->lda, p->b, p->ldb, p->beta,
                                     job->c, p->ldc, i0, i1, j0, j1);
  return NULL;
}

// Each part runs on a thread of its own that ends after it. Under the address sanitizer (the second native
// run of scripts/check-kernels.sh) the per-thread scratch buffers of the ended threads must have been
// freed; regression: they leaked, about 7 MB over this harness, until a thread-specific key's destructor
// freed them.
static void check_gemm_threads(const recur_f32_kernels *t) {
  long shapes[][5] = {{0, 0, 200, 130, 300}, {1, 1, 97, 260, 129}, {0, 1, 150, 150, 2 * t->kc_max + 3}};
  for (int s = 0; s < 3; s++) {
    int ta = (int)shapes[s][0], tb = (int)shapes[s][1];
    long m = shapes[s][2], n = shapes[s][3], k = shapes[s][4];
    set_case("gemm on threads %c%c m=%ld n=%ld k=%ld", ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k);
    gemm_problem p = gemm_make(ta, tb, m, n, k, 1, 0.75f, -1.25f, 0);
    float *single = run_gemm(t, &p);
    float *packed = pack(t, &p);
    for (int use_packed = 0; use_packed < 2; use_packed++) {
      for (long parts = 2; parts <= 4; parts++) {
        float *c = guarded_copy(p.c, p.c_count);
        pthread_t threads[4];
        part_job jobs[4];
        for (long q = 0; q < parts; q++) {
          jobs[q] = (part_job){t, &p, c, use_packed ? packed : NULL, q, parts, RECUR_STATUS_OK};
          pthread_create(&threads[q], NULL, run_part, &jobs[q]);
        }
        for (long q = 0; q < parts; q++) {
          pthread_join(threads[q], NULL);
          if (jobs[q].status != RECUR_STATUS_OK) fail("part %ld returned status %d", q, (int)jobs[q].status);
        }
        expect_bitwise(use_packed ? "packed gemm on threads vs gemm" : "gemm on threads vs one call", c, single,
                       p.c_count);
        release(c, p.c_count);
      }
    }
    free(packed);
    release(single, p.c_count);
    gemm_free(&p);
  }
}

// MARK: - GEMV

static void check_gemv(const recur_f32_kernels *t) {
  long sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 257};
  int ns = (int)(sizeof(sizes) / sizeof(sizes[0]));
  for (int i = 0; i < ns; i++)
    for (int trans = 0; trans < 2; trans++)
      for (int z = 0; z < 2; z++) {
        long m = sizes[i], n = sizes[(i * 5 + 3 + z) % ns], lda = n + (i % 3);
        float beta = z ? 0.0f : 1.5f;
        set_case("gemv %s m=%ld n=%ld lda=%ld beta=%g", trans ? "T" : "N", m, n, lda, beta);
        long a_count = (m - 1) * lda + n, ins = trans ? m : n, outs = trans ? n : m;
        float *a = guarded(a_count), *x = guarded(ins), *y = guarded(outs);
        fill(a, a_count, -1, 1);
        fill(x, ins, -1, 1);
        fill(y, outs, -1, 1);
        if (beta == 0)
          for (long q = 0; q < outs; q++) y[q] = NAN;
        float *want = guarded_copy(y, outs), *got = guarded_copy(y, outs);
        recur_scalar_kernels.gemv(trans, m, n, 0.5f, a, lda, x, beta, want);
        recur_status s = t->gemv(trans, m, n, 0.5f, a, lda, x, beta, got);
        if (s != RECUR_STATUS_OK) fail("gemv returned status %d", (int)s);
        checks++;
        for (long q = 0; q < outs; q++) {
          double sum = 0;
          for (long r = 0; r < ins; r++) sum += fabs((double)(trans ? a[r * lda + q] : a[q * lda + r]) * x[r]);
          double bound = (double)(ins + 2) * 0x1.0p-23 * (0.5 * sum + (beta == 0 ? 0 : fabs(beta * y[q]))) + 1e-30;
          if (isnan(got[q]) || fabs((double)got[q] - want[q]) > bound) {
            fail("y[%ld] = %.9g, scalar %.9g (bound %.3g)", q, got[q], want[q], bound);
            break;
          }
        }
        release(a, a_count);
        release(x, ins);
        release(y, outs);
        release(want, outs);
        release(got, outs);
      }
}

// MARK: - Scratch memory that cannot be had

// A kernel whose scratch allocation fails says so (RECUR_STATUS_NO_MEMORY) and leaves its output alone;
// it used to return silently, without writing the result. The requests below ask for 2^62 bytes before
// reading any operand: the accumulator row of a transposed GEMV with 2^60 columns and no rows, and the
// contiguous copy of a strided vector operand of 2^60 elements inside GEMM (m = 1), the copy that used to
// be a malloc on every call.
static void check_no_memory(const recur_f32_kernels *t) {
  long huge = 1L << 60;
  float x[1] = {1}, y[4] = {7, 7, 7, 7}, c[4] = {7, 7, 7, 7};
  set_case("gemv with a 2^60-column accumulator");
  checks++;
  recur_status s = t->gemv(1, 0, huge, 1.0f, x, 1, x, 0.0f, y);
  if (s != RECUR_STATUS_NO_MEMORY) fail("status %d, expected RECUR_STATUS_NO_MEMORY", (int)s);
  if (y[0] != 7) fail("y written although the kernel failed");
  set_case("gemm m=1 with a strided 2^60-element vector operand");
  checks++;
  s = t->gemm_slice(1, 0, 1, 4, huge, 1.0f, x, 2, x, 4, 0.0f, c, 4, 0, 1, 0, 4);
  if (s != RECUR_STATUS_NO_MEMORY) fail("status %d, expected RECUR_STATUS_NO_MEMORY", (int)s);
  if (c[0] != 7) fail("C written although the kernel failed");
}

// MARK: - Element-wise kernels

static const long lengths[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257};
#define NLENGTHS ((int)(sizeof(lengths) / sizeof(lengths[0])))
static const char *act_names[] = {"identity", "tanh", "sigmoid", "relu"};

static double act_rel(recur_activation act) { return act == RECUR_ACT_TANH || act == RECUR_ACT_SIGMOID ? 1e-6 : 0; }
static double act_abs(recur_activation act) { return act == RECUR_ACT_TANH || act == RECUR_ACT_SIGMOID ? 1e-37 : 0; }
#define CELL_REL 2e-6
#define CELL_ABS 2e-6

static void check_activations(const recur_f32_kernels *t) {
  for (int act = 0; act < 4; act++)
    for (int i = 0; i < NLENGTHS; i++) {
      long n = lengths[i];
      set_case("activate %s n=%ld", act_names[act], n);
      float *x = guarded(n), *want = guarded(n), *got = guarded(n), *dy = guarded(n), *dx0 = guarded(n),
            *dx1 = guarded(n);
      fill(x, n, -9, 9);
      // Special points: zero, the tanh branch switch, the exp clamp, large arguments.
      const float special[] = {0.0f, -0.0f, 0.625f, -0.625f, -87.0f, 88.0f, -100.0f, 100.0f, 1e-6f};
      for (long q = 0; q < n && q < 9 && i % 2 == 1; q++) x[q] = special[q];
      fill(dy, n, -1, 1);
      recur_scalar_kernels.activate(n, (recur_activation)act, x, want);
      t->activate(n, (recur_activation)act, x, got);
      expect_close("y", got, want, n, act_abs((recur_activation)act), act_rel((recur_activation)act));
      // In place (x and y alias).
      float *inplace = guarded_copy(x, n);
      t->activate(n, (recur_activation)act, inplace, inplace);
      expect_bitwise("y in place vs out of place", inplace, got, n);
      release(inplace, n);
      recur_scalar_kernels.activate_backward(n, (recur_activation)act, want, dy, dx0);
      t->activate_backward(n, (recur_activation)act, want, dy, dx1);
      int exact = act == RECUR_ACT_IDENTITY || act == RECUR_ACT_RELU;
      expect_close("dx", dx1, dx0, n, exact ? 0 : CELL_ABS, exact ? 0 : CELL_REL);
      float *bufs[] = {x, want, got, dy, dx0, dx1};
      for (int q = 0; q < 6; q++) release(bufs[q], n);
    }
}

static void check_rows(const recur_f32_kernels *t) {
  for (int i = 0; i < NLENGTHS; i++) {
    long width = lengths[i], rows = lengths[(i * 4 + 5) % NLENGTHS], ld = width + i % 3;
    long count = (rows - 1) * ld + width;
    float *a = guarded(count), *bias = guarded(width);
    fill(a, count, -1, 1);
    fill(bias, width, -1, 1);
    for (int beta = 0; beta < 2; beta++) {
      set_case("add_row_vector rows=%ld width=%ld ld=%ld beta=%d", rows, width, ld, beta);
      float *want = guarded_copy(a, count), *got = guarded_copy(a, count);
      recur_scalar_kernels.add_row_vector(rows, width, bias, (float)beta, want, ld);
      t->add_row_vector(rows, width, bias, (float)beta, got, ld);
      expect_bitwise("c", got, want, count);
      release(want, count);
      release(got, count);
    }
    set_case("sum_rows rows=%ld width=%ld ld=%ld", rows, width, ld);
    float *want = guarded_copy(bias, width), *got = guarded_copy(bias, width);
    recur_scalar_kernels.sum_rows(rows, width, a, ld, want);
    t->sum_rows(rows, width, a, ld, got);
    expect_bitwise("out", got, want, width);
    release(want, width);
    release(got, width);
    release(a, count);
    release(bias, width);
  }
}

// Both tables run one kernel on copies of the same outputs; `outs` holds the outputs' sizes.
typedef struct {
  float *buf[2][4];
  long size[4];
  int count;
} outputs;

static outputs make_outputs(int count, const long *sizes) {
  outputs o = {{{0}}, {0}, count};
  for (int q = 0; q < count; q++) {
    o.size[q] = sizes[q];
    float *init = guarded(sizes[q]);
    fill(init, sizes[q], -1, 1);
    o.buf[0][q] = guarded_copy(init, sizes[q]);
    o.buf[1][q] = guarded_copy(init, sizes[q]);
    release(init, sizes[q]);
  }
  return o;
}

static void compare_outputs(outputs *o, const char *const *names, double abs_tol, double rel_tol) {
  for (int q = 0; q < o->count; q++) {
    expect_close(names[q], o->buf[1][q], o->buf[0][q], o->size[q], abs_tol, rel_tol);
    release(o->buf[0][q], o->size[q]);
    release(o->buf[1][q], o->size[q]);
  }
}

static void check_cells(const recur_f32_kernels *t) {
  const recur_f32_kernels *tables[2] = {&recur_scalar_kernels, t};
  for (int i = 0; i < NLENGTHS; i++) {
    long H = lengths[i], B = 1 + i % 4, BH = B * H;
    float *xp = guarded(B * 4 * H), *hp = guarded(B * 4 * H), *prev = guarded(BH), *dh = guarded(BH),
          *dc = guarded(BH);
    fill(xp, B * 4 * H, -3, 3);
    fill(hp, B * 4 * H, -3, 3);
    fill(prev, BH, -1, 1);
    fill(dh, BH, -1, 1);
    fill(dc, BH, -1, 1);
    for (int act = 0; act < 4; act++) {
      double ra = act_rel((recur_activation)act), aa = act_abs((recur_activation)act);
      set_case("rnn forward %s B=%ld H=%ld", act_names[act], B, H);
      outputs o = make_outputs(1, (long[]){BH});
      for (int s = 0; s < 2; s++) tables[s]->rnn_forward(B, H, (recur_activation)act, xp, hp, o.buf[s][0]);
      float *h = guarded_copy(o.buf[0][0], BH);
      compare_outputs(&o, (const char *[]){"h"}, aa, ra);
      set_case("rnn backward %s B=%ld H=%ld", act_names[act], B, H);
      o = make_outputs(1, (long[]){BH});
      for (int s = 0; s < 2; s++) tables[s]->rnn_backward(B, H, (recur_activation)act, h, dh, o.buf[s][0]);
      int exact = act == RECUR_ACT_IDENTITY || act == RECUR_ACT_RELU;
      compare_outputs(&o, (const char *[]){"dpre"}, exact ? 0 : CELL_ABS, exact ? 0 : CELL_REL);
      release(h, BH);

      set_case("gated forward %s B=%ld H=%ld", act_names[act], B, H);
      o = make_outputs(2, (long[]){BH, 2 * BH});
      for (int s = 0; s < 2; s++)
        tables[s]->gated_forward(B, H, (recur_activation)act, xp, hp, prev, o.buf[s][0], o.buf[s][1]);
      float *cache = guarded_copy(o.buf[0][1], 2 * BH);
      compare_outputs(&o, (const char *[]){"h", "cache"}, CELL_ABS, CELL_REL);
      set_case("gated backward %s B=%ld H=%ld", act_names[act], B, H);
      o = make_outputs(2, (long[]){2 * BH, BH});
      for (int s = 0; s < 2; s++)
        tables[s]->gated_backward(B, H, (recur_activation)act, cache, prev, dh, o.buf[s][0], o.buf[s][1]);
      compare_outputs(&o, (const char *[]){"dpre", "dh_prev"}, CELL_ABS, CELL_REL);
      release(cache, 2 * BH);
    }

    set_case("lstm forward B=%ld H=%ld", B, H);
    outputs o = make_outputs(3, (long[]){BH, BH, 4 * BH});
    for (int s = 0; s < 2; s++) tables[s]->lstm_forward(B, H, xp, hp, prev, o.buf[s][0], o.buf[s][1], o.buf[s][2]);
    float *c = guarded_copy(o.buf[0][0], BH), *gates = guarded_copy(o.buf[0][2], 4 * BH);
    compare_outputs(&o, (const char *[]){"c", "h", "gates"}, CELL_ABS, CELL_REL);
    for (int with_dc = 0; with_dc < 2; with_dc++) {
      set_case("lstm backward B=%ld H=%ld dc=%s", B, H, with_dc ? "given" : "NULL");
      o = make_outputs(2, (long[]){4 * BH, BH});
      for (int s = 0; s < 2; s++)
        tables[s]->lstm_backward(B, H, gates, prev, c, dh, with_dc ? dc : NULL, o.buf[s][0], o.buf[s][1]);
      compare_outputs(&o, (const char *[]){"dgates", "dc_prev"}, CELL_ABS, CELL_REL);
    }
    release(c, BH);
    release(gates, 4 * BH);

    set_case("gru forward B=%ld H=%ld", B, H);
    o = make_outputs(2, (long[]){BH, 4 * BH});
    for (int s = 0; s < 2; s++) tables[s]->gru_forward(B, H, xp, hp, prev, o.buf[s][0], o.buf[s][1]);
    float *gcache = guarded_copy(o.buf[0][1], 4 * BH);
    compare_outputs(&o, (const char *[]){"h", "cache"}, CELL_ABS, CELL_REL);
    set_case("gru backward B=%ld H=%ld", B, H);
    o = make_outputs(3, (long[]){3 * BH, 3 * BH, BH});
    for (int s = 0; s < 2; s++)
      tables[s]->gru_backward(B, H, gcache, prev, dh, o.buf[s][0], o.buf[s][1], o.buf[s][2]);
    compare_outputs(&o, (const char *[]){"dxp", "dhp", "dh_prev"}, CELL_ABS, CELL_REL);
    release(gcache, 4 * BH);

    float *bufs[] = {xp, hp};
    for (int q = 0; q < 2; q++) release(bufs[q], B * 4 * H);
    release(prev, BH);
    release(dh, BH);
    release(dc, BH);
  }
}

// MARK: - Softmax and cross-entropy

static void check_softmax(const recur_f32_kernels *t) {
  long vocabs[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 65, 255, 256, 257, 511, 512, 513, 1000, 2049};
  int nv = (int)(sizeof(vocabs) / sizeof(vocabs[0]));
  for (int i = 0; i < nv; i++) {
    long V = vocabs[i], N = 1 + i % 4, count = N * V;
    float *logits = guarded(count);
    // Every other vocabulary spreads the logits over [-100, 100]: exp without the maximum subtracted
    // would overflow.
    float spread = i % 2 ? 100.0f : 20.0f;
    fill(logits, count, -spread, spread);
    set_case("softmax rows=%ld vocab=%ld logits in [-%g, %g]", N, V, spread, spread);
    float *want = guarded(count), *got = guarded(count);
    recur_scalar_kernels.softmax(N, V, logits, want);
    t->softmax(N, V, logits, got);
    expect_close("probs", got, want, count, 1e-9, 1e-5);
    float *inplace = guarded_copy(logits, count);
    t->softmax(N, V, inplace, inplace);
    expect_bitwise("probs in place vs out of place", inplace, got, count);
    release(inplace, count);

    int32_t targets[4];
    float weights[4];
    for (long r = 0; r < N; r++) {
      targets[r] = (int32_t)(next_u64() % (uint64_t)V);
      weights[r] = uniform(0.5f, 2.0f);
    }
    // Skipped rows: a negative target, a target past the vocabulary, a weight of 0.
    if (N > 1) targets[1] = -1;
    if (N > 2) targets[2] = (int32_t)V;
    if (N > 3) weights[3] = 0;
    for (int mode = 0; mode < 3; mode++) {  // gradient: none, separate, in place over the logits
      for (int weighted = 0; weighted < 2; weighted++) {
        set_case("softmax_xent rows=%ld vocab=%ld weights=%s gradient=%s", N, V, weighted ? "given" : "NULL",
                 mode == 0 ? "none" : mode == 1 ? "separate" : "in place");
        float *d0 = mode == 0 ? NULL : mode == 1 ? guarded(count) : guarded_copy(logits, count);
        float *d1 = mode == 0 ? NULL : mode == 1 ? guarded(count) : guarded_copy(logits, count);
        const float *l0 = mode == 2 ? d0 : logits, *l1 = mode == 2 ? d1 : logits;
        float scale = 0.25f;
        double loss0 = recur_scalar_kernels.softmax_xent(N, V, l0, targets, weighted ? weights : NULL, scale, d0);
        double loss1 = t->softmax_xent(N, V, l1, targets, weighted ? weights : NULL, scale, d1);
        checks++;
        // Each row's loss is log(sum) + max - l[t]; the sum's relative error (the exps') is its absolute error.
        if (!(fabs(loss1 - loss0) <= 1e-6 * fabs(loss0) + 1e-6 * 2.0 * (double)N))
          fail("loss %.12g, scalar %.12g", loss1, loss0);
        if (mode) {
          expect_close("dlogits", d1, d0, count, 1e-7 * scale, 1e-5);
          release(d0, count);
          release(d1, count);
        }
      }
    }
    release(want, count);
    release(got, count);
    release(logits, count);
  }
}

// MARK: - NaN and infinity

// A NaN in an input comes out as NaN wherever the scalar twin gives NaN (a diverging run must show it),
// and infinities give the scalar twin's limits. Regression: AVX2's exp turned NaN into 1.2e-38 (its max
// and min return the second operand on NaN), so sigmoid(NaN) was 1.2e-38 and a NaN or +inf logit gave
// finite softmax probabilities, while the NEON table (run under emulation) gave NaN as the scalar twin does.
static void check_non_finite(const recur_f32_kernels *t) {
  const float odd[] = {NAN, -NAN, INFINITY, -INFINITY, 0.5f, NAN, -3.0f, INFINITY, 1e30f, -1e30f, NAN};
  long n = (long)(sizeof(odd) / sizeof(odd[0]));
  for (int act = 1; act < 3; act++) {
    set_case("activate %s of NaN and infinities", act_names[act]);
    float want[11], got[11];
    recur_scalar_kernels.activate(n, (recur_activation)act, odd, want);
    t->activate(n, (recur_activation)act, odd, got);
    expect_close("y", got, want, n, act_abs((recur_activation)act), act_rel((recur_activation)act));
  }
  for (long bad = 0; bad < 2; bad++)
    for (long at = 0; at < 9; at += 4) {
      set_case("softmax of 9 logits with %s at %ld", bad ? "+inf" : "NaN", at);
      float logits[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, want[9], got[9];
      logits[at] = bad ? INFINITY : NAN;
      recur_scalar_kernels.softmax(1, 9, logits, want);
      t->softmax(1, 9, logits, got);
      expect_close("probs", got, want, 9, 1e-9, 1e-5);
      int32_t target = 3;
      double l0 = recur_scalar_kernels.softmax_xent(1, 9, logits, &target, NULL, 1.0f, want);
      double l1 = t->softmax_xent(1, 9, logits, &target, NULL, 1.0f, got);
      checks++;
      if (isnan(l0) != isnan(l1)) fail("loss %g, scalar %g", l1, l0);
      expect_close("dlogits", got, want, 9, 1e-7, 1e-5);
    }
  set_case("lstm forward with a NaN pre-activation");
  float xp[4 * 5] = {0}, hp[4 * 5] = {0}, cp[5] = {0}, c[2][5], h[2][5], g[2][4 * 5];
  for (int q = 0; q < 4; q++) xp[q * 5 + q] = NAN;
  recur_scalar_kernels.lstm_forward(1, 5, xp, hp, cp, c[0], h[0], g[0]);
  t->lstm_forward(1, 5, xp, hp, cp, c[1], h[1], g[1]);
  expect_close("c", c[1], c[0], 5, CELL_ABS, CELL_REL);
  expect_close("h", h[1], h[0], 5, CELL_ABS, CELL_REL);
  expect_close("gates", g[1], g[0], 20, CELL_ABS, CELL_REL);
}

// MARK: - Adam

static void check_adam(const recur_f32_kernels *t) {
  for (int i = 0; i < NLENGTHS; i++)
    for (int decoupled = 0; decoupled < 2; decoupled++) {
      long n = lengths[i];
      set_case("adam n=%ld decoupled=%d", n, decoupled);
      float *grad = guarded(n);
      fill(grad, n, -1, 1);
      outputs o = make_outputs(3, (long[]){n, n, n});  // param, m, v
      for (long q = 0; q < n; q++) o.buf[0][2][q] = o.buf[1][2][q] = fabsf(o.buf[0][2][q]);  // v >= 0
      float b1 = 0.9f, b2 = 0.999f, bc1 = 1 - b1 * b1 * b1, bc2 = 1 - b2 * b2 * b2;
      for (int s = 0; s < 2; s++) {
        const recur_f32_kernels *k = s ? t : &recur_scalar_kernels;
        k->adam(n, o.buf[s][0], grad, o.buf[s][1], o.buf[s][2], 1e-3f, b1, b2, 1e-8f, 0.01f, decoupled, bc1, bc2);
      }
      compare_outputs(&o, (const char *[]){"param", "m", "v"}, 1e-9, 1e-6);
      release(grad, n);
    }
}

// MARK: - Weight averaging

static void check_lerp(const recur_f32_kernels *t) {
  static const float weights[] = {0.001f, 0.1f, 1.0f / 3, 0.5f, 0.75f};
  for (int i = 0; i < NLENGTHS; i++)
    for (int j = 0; j < 5; j++) {
      long n = lengths[i];
      set_case("lerp n=%ld w=%g", n, weights[j]);
      float *value = guarded(n);
      fill(value, n, -1, 1);
      outputs o = make_outputs(1, (long[]){n});  // the average
      for (int s = 0; s < 2; s++) (s ? t : &recur_scalar_kernels)->lerp(n, o.buf[s][0], value, weights[j]);
      expect_bitwise("average", o.buf[1][0], o.buf[0][0], n);  // both fused: the same roundings
      compare_outputs(&o, (const char *[]){"average"}, 0, 0);      // (and releases the outputs)
      release(value, n);
    }
}

// MARK: - Dropout masks shared by a batch

// The counter-based mask and M * W in one pass: bitwise the scalar twin's (integer hash, one product), with
// and without the weight, for keep probabilities that round the threshold both ways, keep everything (1)
// or nothing (0); and the share of kept elements of a large mask is keep's (binomial bound).
static void check_shared_mask(const recur_f32_kernels *t) {
  static const double keeps[] = {0.8, 0.6, 0.5, 1.0 / 3, 1.0, 0.0};
  for (int i = 0; i < NLENGTHS; i++)
    for (int j = 0; j < 6; j++)
      for (int with_weight = 0; with_weight < 2; with_weight++) {
        long n = lengths[i];
        uint64_t seed = next_u64();
        set_case("shared_mask n=%ld keep=%g weight=%d", n, keeps[j], with_weight);
        float *weight = guarded(n);
        fill(weight, n, -1, 1);
        outputs o = make_outputs(2, (long[]){n, n});  // mask, M * W
        for (int s = 0; s < 2; s++)
          (s ? t : &recur_scalar_kernels)
              ->shared_mask(n, seed, keeps[j], with_weight ? weight : NULL, o.buf[s][0], o.buf[s][1]);
        compare_outputs(&o, (const char *[]){"mask", "dropped"}, 0, 0);
        release(weight, n);
      }
  long n = 1L << 20;
  set_case("shared_mask kept share n=%ld", n);
  float *mask = guarded(n);
  t->shared_mask(n, next_u64(), 0.7, NULL, mask, NULL);
  long kept = 0;
  for (long q = 0; q < n; q++) kept += mask[q] != 0;
  double sd = sqrt(n * 0.7 * 0.3);
  checks++;
  if (fabs(kept - 0.7 * n) > 6 * sd) fail("%ld of %ld kept, expected %.0f +- %.0f", kept, n, 0.7 * n, 6 * sd);
  release(mask, n);
}

// MARK: - The harness checks itself

// A comparison that cannot fail checks nothing: a result one ulp off must be caught by every comparator.
static void check_comparators(void) {
  float want[3] = {1.0f, -2.0f, 3.0f}, got[3] = {1.0f, -2.0f, 3.0f};
  got[2] = nextafterf(got[2], 10.0f);
  long before = failures;
  set_case("self-check");
  quiet = 1;
  expect_bitwise("bitwise", got, want, 3);
  expect_close("close", got, want, 3, 0, 1e-9);
  got[2] = NAN;
  expect_close("NaN", got, want, 3, 1, 1);
  long caught = failures - before;
  failures = before;
  quiet = 0;
  if (caught != 3) {
    set_case("self-check");
    fail("the comparators caught %ld of 3 planted differences", caught);
  }
}

// MARK: - Dispatch

static const char *isa_key(recur_isa isa) {
  return isa == RECUR_ISA_AVX2 ? "avx2" : isa == RECUR_ISA_NEON ? "neon" : "scalar";
}

// The dispatcher runs the table it names: recur_sgemm, recur_sgemm_packed and an element-wise kernel give
// bitwise the results of the table's own entries.
static int check_dispatch(const char *expected) {
  table_name = "dispatch";
  recur_isa isa = recur_active_isa();
  set_case("RECUR_ISA=%s", getenv("RECUR_ISA") ? getenv("RECUR_ISA") : "(unset)");
  if (strcmp(isa_key(isa), expected) != 0) fail("active instruction set %s, expected %s", isa_key(isa), expected);
  const recur_f32_kernels *t = recur_kernels_for(isa);
  if (!t) {
    fail("no table for the active instruction set %s", isa_key(isa));
  } else {
    gemm_problem p = gemm_make(0, 1, 13, 37, 300, 1, 0.75f, -1.25f, 0);
    float *own = run_gemm(t, &p), *via = guarded_copy(p.c, p.c_count);
    recur_status s = recur_sgemm(0, 1, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, via, p.ldc);
    if (s != RECUR_STATUS_OK) fail("recur_sgemm returned status %d", (int)s);
    expect_bitwise("recur_sgemm vs the table's gemm", via, own, p.c_count);
    float *x = guarded(100), *y0 = guarded(100), *y1 = guarded(100);
    fill(x, 100, -5, 5);
    t->activate(100, RECUR_ACT_TANH, x, y0);
    recur_activate_f32(100, RECUR_ACT_TANH, x, y1);
    expect_bitwise("recur_activate_f32 vs the table's activate", y1, y0, 100);
    release(x, 100);
    release(y0, 100);
    release(y1, 100);
    release(own, p.c_count);
    release(via, p.c_count);
    gemm_free(&p);
  }
  printf("dispatch: RECUR_ISA=%s -> %s (%s)\n", getenv("RECUR_ISA") ? getenv("RECUR_ISA") : "(unset)",
         recur_isa_name(), failures ? "FAIL" : "ok");
  return failures ? 1 : 0;
}

// MARK: - Main

int main(int argc, char **argv) {
  signal(SIGSEGV, on_crash);
  signal(SIGBUS, on_crash);
  signal(SIGFPE, on_crash);
  signal(SIGILL, on_crash);
  const char *required = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) return check_dispatch(argv[i + 1]);
    if (strcmp(argv[i], "--require") == 0 && i + 1 < argc) {
      required = argv[++i];
    } else {
      fprintf(stderr, "usage: %s [--require avx2|neon] | --expect scalar|avx2|neon\n", argv[0]);
      return 2;
    }
  }
  check_comparators();
  int checked_required = 0;
  recur_isa isas[] = {RECUR_ISA_AVX2, RECUR_ISA_NEON};
  for (int i = 0; i < 2; i++) {
    const recur_f32_kernels *t = recur_kernels_for(isas[i]);
    if (!t) {
      printf("%s: not available on this CPU or build, skipped\n", isa_key(isas[i]));
      continue;
    }
    if (required && strcmp(required, isa_key(isas[i])) == 0) checked_required = 1;
    table_name = t->name;
    long before_f = failures, before_c = checks;
    check_gemm(t);
    check_gemm_threads(t);
    check_gemv(t);
    check_no_memory(t);
    check_activations(t);
    check_rows(t);
    check_cells(t);
    check_softmax(t);
    check_non_finite(t);
    check_adam(t);
    check_lerp(t);
    check_shared_mask(t);
    printf("%s: %ld checks against the scalar table (tile %ld x %ld, K block %ld), %ld failed\n", t->name,
           checks - before_c, t->mr, t->nr, t->kc_max, failures - before_f);
  }
  if (required && !checked_required) {
    table_name = required;
    set_case("--require %s", required);
    fail("the %s table was not checked: this CPU or build does not have it", required);
  }
  if (failures) printf("%ld failure(s)\n", failures);
  return failures ? 1 : 0;
}
