// Shared by kernels.c and grad_kernels.c (private to the target): which lanes of a
// 16-wide step, and which output columns of a stride-1 convolution tap, are live.
#ifndef QL_COLUMN_LANES_H
#define QL_COLUMN_LANES_H

#include <immintrin.h>

/// Lanes lo..<hi of a 16-lane step starting at j.
static inline __mmask16 lanes(long j, long lo, long hi) {
    long a = lo - j, b = hi - j;
    if (a < 0) a = 0;
    if (b > 16) b = 16;
    if (b <= a) return 0;
    return (__mmask16)(((1u << (b - a)) - 1u) << a);
}

/// Output columns lo..<hi whose tap kj reads inside the image (ConvGeometry.validColumns).
static inline void valid_columns(long p, long kj, long width, long ow, long *lo, long *hi) {
    long a = p - kj, b = width + p - kj;
    if (a < 0) a = 0;
    if (a > ow) a = ow;
    if (b > ow) b = ow;
    *lo = a; *hi = b;
}

#endif
