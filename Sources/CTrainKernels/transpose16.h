// Shared by grad_kernels.c, quant_kernels.c and kernels.c (private to the target): the 16 × 16
// transpose of 32-bit lanes that turns 16 vectors of one layout's rows into 16 of its
// columns, where a gather or scatter per vector would move one element at a time.
#ifndef QL_TRANSPOSE16_H
#define QL_TRANSPOSE16_H

#include <immintrin.h>

/// y[j] lane i = x[i] lane j, in three rounds: 32-bit and 64-bit unpacks within 128-bit
/// lanes, then two shuffles of 128-bit lanes. Pure data movement (NaN payloads kept).
__attribute__((target("avx512f"))) static inline void transpose16x16_epi32(const __m512i x[16], __m512i y[16]) {
    __m512i a[16], b[16];
    // a[2g], a[2g + 1]: rows 2g, 2g + 1 interleaved, columns 4L + {0, 1} / {2, 3} in lane L.
    for (int g = 0; g < 8; g++) {
        a[2 * g] = _mm512_unpacklo_epi32(x[2 * g], x[2 * g + 1]);
        a[2 * g + 1] = _mm512_unpackhi_epi32(x[2 * g], x[2 * g + 1]);
    }
    // b[4q + t]: rows 4q … 4q + 3 of column 4L + t in lane L.
    for (int q = 0; q < 4; q++) {
        b[4 * q] = _mm512_unpacklo_epi64(a[4 * q], a[4 * q + 2]);
        b[4 * q + 1] = _mm512_unpackhi_epi64(a[4 * q], a[4 * q + 2]);
        b[4 * q + 2] = _mm512_unpacklo_epi64(a[4 * q + 1], a[4 * q + 3]);
        b[4 * q + 3] = _mm512_unpackhi_epi64(a[4 * q + 1], a[4 * q + 3]);
    }
    // Column 4L + t: lane L of b[t], b[4 + t], b[8 + t], b[12 + t].
    for (int t = 0; t < 4; t++) {
        const __m512i c0 = _mm512_shuffle_i32x4(b[t], b[4 + t], 0x88), c1 = _mm512_shuffle_i32x4(b[t], b[4 + t], 0xDD);
        const __m512i d0 = _mm512_shuffle_i32x4(b[8 + t], b[12 + t], 0x88), d1 = _mm512_shuffle_i32x4(b[8 + t], b[12 + t], 0xDD);
        y[t] = _mm512_shuffle_i32x4(c0, d0, 0x88);
        y[4 + t] = _mm512_shuffle_i32x4(c1, d1, 0x88);
        y[8 + t] = _mm512_shuffle_i32x4(c0, d0, 0xDD);
        y[12 + t] = _mm512_shuffle_i32x4(c1, d1, 0xDD);
    }
}

#endif
