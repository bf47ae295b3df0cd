#include "CBitKernels.h"
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

// ---- CPU features ---------------------------------------------------------------

static uint64_t ql_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t ql_detect(void) {
    unsigned a, b, c, d;
    uint32_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (c & (1u << 23)) f |= QL_CPU_POPCNT;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
    uint64_t xcr0 = osxsave ? ql_xgetbv0() : 0;
    int ymm = (xcr0 & 0x6) == 0x6;                 // SSE and AVX state
    int zmm = ymm && (xcr0 & 0xe0) == 0xe0;        // opmask, ZMM0-15 upper halves, ZMM16-31
    int tiles = (xcr0 & 0x60000) == 0x60000;       // AMX tile config and data
    if (__get_cpuid_max(0, 0) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    if (ymm && fma) f |= QL_CPU_FMA;
    if (ymm && (b & (1u << 5))) f |= QL_CPU_AVX2;
    if (zmm && (b & (1u << 16))) f |= QL_CPU_AVX512F;
    if (zmm && (b & (1u << 30))) f |= QL_CPU_AVX512BW;
    if (zmm && (b & (1u << 31))) f |= QL_CPU_AVX512VL;
    if (zmm && (b & (1u << 17))) f |= QL_CPU_AVX512DQ;
    if (zmm && (c & (1u << 11))) f |= QL_CPU_AVX512_VNNI;
    if (zmm && (c & (1u << 14))) f |= QL_CPU_AVX512_VPOPCNTDQ;
    if (tiles && (d & (1u << 25))) f |= QL_CPU_AMX_INT8;
    if (tiles && (d & (1u << 22))) f |= QL_CPU_AMX_BF16;
    unsigned max7 = a;
    if (max7 >= 1) {
        __cpuid_count(7, 1, a, b, c, d);
        if (zmm && (a & (1u << 5))) f |= QL_CPU_AVX512_BF16;
        if (ymm && (a & (1u << 4))) f |= QL_CPU_AVX_VNNI;
    }
    return f;
}

uint32_t ql_cpu_features(void) {
    static uint32_t cached = 0xffffffffu;          // racing first calls compute the same value
    uint32_t v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v == 0xffffffffu) { v = ql_detect(); __atomic_store_n(&cached, v, __ATOMIC_RELAXED); }
    return v;
}

int ql_xnor_supported(int level) {
    uint32_t f = ql_cpu_features();
    switch (level) {
    case QL_XNOR_PORTABLE: return 1;
    case QL_XNOR_POPCNT: return (f & QL_CPU_POPCNT) != 0;
    case QL_XNOR_AVX2: return (f & QL_CPU_AVX2) != 0;
    case QL_XNOR_AVX512: return (f & QL_CPU_AVX512F) && (f & QL_CPU_AVX512_VPOPCNTDQ);
    default: return 0;
    }
}

// ---- Filter packing ---------------------------------------------------------------

size_t ql_xnor_packed_length(size_t filters, size_t words) { return (filters + 7) / 8 * words * 8; }

void ql_xnor_pack_filters(const uint64_t *w, size_t filters, size_t words, uint64_t *wb) {
    size_t blocks = (filters + 7) / 8;
    for (size_t bl = 0; bl < blocks; bl++)
        for (size_t j = 0; j < words; j++)
            for (size_t f = 0; f < 8; f++) {
                size_t k = bl * 8 + f;
                wb[(bl * words + j) * 8 + f] = k < filters ? w[k * words + j] : 0;
            }
}

// ---- Kernels ------------------------------------------------------------------------
// Each computes the popcounts of one row against all filters; the caller turns them
// into dot products.

static inline int32_t ql_finish(const int32_t *valid, int32_t valid_all, size_t i, int64_t pc) {
    return (valid ? valid[i] : valid_all) - 2 * (int32_t)pc;
}

static inline uint64_t ql_popcount_portable(uint64_t v) {
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (v * 0x0101010101010101ull) >> 56;
}

// The scalar kernels: one filter word at a time, POPCOUNT per word.
#define QL_XNOR_SCALAR_BODY(POPCOUNT)                                                      \
    for (size_t i = 0; i < rows; i++) {                                                    \
        const uint64_t *xi = x + i * words, *mi = mask ? mask + i * words : NULL;          \
        for (size_t k = 0; k < filters; k++) {                                             \
            const uint64_t *wk = wb + (k / 8) * words * 8 + k % 8;                         \
            uint64_t pc = 0;                                                               \
            for (size_t j = 0; j < words; j++) {                                           \
                uint64_t t = xi[j] ^ wk[j * 8];                                            \
                pc += (uint64_t)POPCOUNT(mi ? t & mi[j] : t);                              \
            }                                                                              \
            out[i * ldo + k] = ql_finish(valid, valid_all, i, (int64_t)pc);                \
        }                                                                                  \
    }

static void ql_xnor_portable(const uint64_t *x, const uint64_t *mask, const int32_t *valid, int32_t valid_all,
                             size_t rows, size_t words, const uint64_t *wb, size_t filters, int32_t *out, size_t ldo) {
    QL_XNOR_SCALAR_BODY(ql_popcount_portable)
}

__attribute__((target("popcnt")))
static void ql_xnor_popcnt(const uint64_t *x, const uint64_t *mask, const int32_t *valid, int32_t valid_all,
                           size_t rows, size_t words, const uint64_t *wb, size_t filters, int32_t *out, size_t ldo) {
    QL_XNOR_SCALAR_BODY(__builtin_popcountll)
}

// AVX2: 4 filters per 256-bit lane group, popcount by nibble table (Mula et al. 2018).
__attribute__((target("avx2")))
static inline __m256i ql_popcount256(__m256i v) {
    const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                           0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    __m256i bytes = _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
    return _mm256_sad_epu8(bytes, _mm256_setzero_si256());      // four 64-bit sums
}

__attribute__((target("avx2")))
static void ql_xnor_avx2(const uint64_t *x, const uint64_t *mask, const int32_t *valid, int32_t valid_all,
                         size_t rows, size_t words, const uint64_t *wb, size_t filters, int32_t *out, size_t ldo) {
    size_t blocks = (filters + 7) / 8;
    for (size_t i = 0; i < rows; i++) {
        const uint64_t *xi = x + i * words, *mi = mask ? mask + i * words : NULL;
        for (size_t bl = 0; bl < blocks; bl++) {
            const uint64_t *w = wb + bl * words * 8;
            __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
            for (size_t j = 0; j < words; j++) {
                __m256i xv = _mm256_set1_epi64x((long long)xi[j]);
                __m256i mv = _mm256_set1_epi64x(mi ? (long long)mi[j] : -1LL);
                __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + j * 8));
                __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + j * 8 + 4));
                a0 = _mm256_add_epi64(a0, ql_popcount256(_mm256_and_si256(_mm256_xor_si256(xv, w0), mv)));
                a1 = _mm256_add_epi64(a1, ql_popcount256(_mm256_and_si256(_mm256_xor_si256(xv, w1), mv)));
            }
            int64_t pc[8];
            _mm256_storeu_si256((__m256i *)pc, a0);
            _mm256_storeu_si256((__m256i *)(pc + 4), a1);
            size_t n = filters - bl * 8 < 8 ? filters - bl * 8 : 8;
            for (size_t f = 0; f < n; f++) out[i * ldo + bl * 8 + f] = ql_finish(valid, valid_all, i, pc[f]);
        }
    }
}

// AVX-512: one 512-bit register holds word j of 8 filters; (x ⊕ w) ∧ m is one
// vpternlogq, its popcount one vpopcntq. Four filter blocks share each broadcast.
#define QL_AVX512 __attribute__((target("avx512f,avx512vpopcntdq")))

// valid_i − 2·popcount for n ≤ 8 filters, in the vector (the scalar loop over a
// stored copy was a fifth of the kernel's time at 64 filters, perf).
QL_AVX512
static inline void ql_store8(__m512i acc, const int32_t *valid, int32_t valid_all, size_t i,
                             int32_t *dst, size_t n) {
    __m512i v = _mm512_set1_epi64(valid ? valid[i] : valid_all);
    __m512i r = _mm512_sub_epi64(v, _mm512_add_epi64(acc, acc));
    _mm512_mask_cvtepi64_storeu_epi32(dst, (__mmask8)((1u << n) - 1), r);
}

QL_AVX512
static void ql_xnor_avx512(const uint64_t *x, const uint64_t *mask, const int32_t *valid, int32_t valid_all,
                           size_t rows, size_t words, const uint64_t *wb, size_t filters, int32_t *out, size_t ldo) {
    size_t blocks = (filters + 7) / 8;
    const __m512i ones = _mm512_set1_epi64(-1);
    for (size_t i = 0; i < rows; i++) {
        const uint64_t *xi = x + i * words, *mi = mask ? mask + i * words : NULL;
        int32_t *oi = out + i * ldo;
        size_t bl = 0;
        for (; bl + 4 <= blocks; bl += 4) {
            const uint64_t *w = wb + bl * words * 8;
            const size_t step = words * 8;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
            for (size_t j = 0; j < words; j++) {
                __m512i xv = _mm512_set1_epi64((long long)xi[j]);
                __m512i mv = mi ? _mm512_set1_epi64((long long)mi[j]) : ones;
                const uint64_t *wj = w + j * 8;
                // imm 0x28: (A ⊕ B) ∧ C with A = x, B = w, C = mask.
                a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(xv, _mm512_loadu_si512(wj), mv, 0x28)));
                a1 = _mm512_add_epi64(a1, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(xv, _mm512_loadu_si512(wj + step), mv, 0x28)));
                a2 = _mm512_add_epi64(a2, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(xv, _mm512_loadu_si512(wj + 2 * step), mv, 0x28)));
                a3 = _mm512_add_epi64(a3, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(xv, _mm512_loadu_si512(wj + 3 * step), mv, 0x28)));
            }
            __m512i acc[4] = {a0, a1, a2, a3};
            for (int q = 0; q < 4; q++) {
                size_t k0 = (bl + q) * 8, n = filters - k0 < 8 ? filters - k0 : 8;
                ql_store8(acc[q], valid, valid_all, i, oi + k0, n);
            }
        }
        for (; bl < blocks; bl++) {
            const uint64_t *w = wb + bl * words * 8;
            __m512i a0 = _mm512_setzero_si512();
            for (size_t j = 0; j < words; j++) {
                __m512i xv = _mm512_set1_epi64((long long)xi[j]);
                __m512i mv = mi ? _mm512_set1_epi64((long long)mi[j]) : ones;
                a0 = _mm512_add_epi64(a0, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(xv, _mm512_loadu_si512(w + j * 8), mv, 0x28)));
            }
            size_t k0 = bl * 8, n = filters - k0 < 8 ? filters - k0 : 8;
            ql_store8(a0, valid, valid_all, i, oi + k0, n);
        }
    }
}

void ql_xnor_gemm(int level, const uint64_t *x, const uint64_t *mask, const int32_t *valid, int32_t valid_all,
                  size_t rows, size_t words, const uint64_t *wb, size_t filters, int32_t *out, size_t ldo) {
    if (!ql_xnor_supported(level)) level = QL_XNOR_PORTABLE;
    switch (level) {
    case QL_XNOR_AVX512: ql_xnor_avx512(x, mask, valid, valid_all, rows, words, wb, filters, out, ldo); break;
    case QL_XNOR_AVX2: ql_xnor_avx2(x, mask, valid, valid_all, rows, words, wb, filters, out, ldo); break;
    case QL_XNOR_POPCNT: ql_xnor_popcnt(x, mask, valid, valid_all, rows, words, wb, filters, out, ldo); break;
    default: ql_xnor_portable(x, mask, valid, valid_all, rows, words, wb, filters, out, ldo); break;
    }
}

