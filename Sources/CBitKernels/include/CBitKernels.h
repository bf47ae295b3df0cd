// Binary (XNOR-popcount) kernels and CPU feature detection for quantlab's packed
// inference engine, with run-time dispatch over instruction sets.
#ifndef QUANTLAB_CBITKERNELS_H
#define QUANTLAB_CBITKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// CPU features, read once with cpuid (and xgetbv: a feature counts only when the
/// operating system saves the registers it needs).
enum {
    QL_CPU_POPCNT = 1u << 0,
    QL_CPU_AVX2 = 1u << 1,
    QL_CPU_FMA = 1u << 2,
    QL_CPU_AVX512F = 1u << 3,
    QL_CPU_AVX512BW = 1u << 4,
    QL_CPU_AVX512VL = 1u << 5,
    QL_CPU_AVX512_VNNI = 1u << 6,
    QL_CPU_AVX512_BF16 = 1u << 7,
    QL_CPU_AVX512_VPOPCNTDQ = 1u << 8,
    QL_CPU_AVX_VNNI = 1u << 9,
    QL_CPU_AMX_INT8 = 1u << 10,
    QL_CPU_AMX_BF16 = 1u << 11,
};
uint32_t ql_cpu_features(void);

/// Implementations of the XNOR-popcount GEMM, slowest first.
enum {
    QL_XNOR_PORTABLE = 0,   // C, no popcnt instruction (bit tricks)
    QL_XNOR_POPCNT = 1,     // scalar popcnt, one 64-bit word at a time
    QL_XNOR_AVX2 = 2,       // 256-bit, nibble-table popcount (vpshufb + vpsadbw)
    QL_XNOR_AVX512 = 3,     // 512-bit ternary logic + VPOPCNTDQ
};
/// Whether this CPU runs `level`.
int ql_xnor_supported(int level);

/// Filters are packed in blocks of 8: wb[(b·words + j)·8 + f] = word j of filter 8b + f
/// (filters padded to a multiple of 8 with zero words). Returns the wb length in words.
size_t ql_xnor_packed_length(size_t filters, size_t words);
void ql_xnor_pack_filters(const uint64_t *w, size_t filters, size_t words, uint64_t *wb);

/// out[i·ldo + f] = valid_i − 2·popcount((x_i ⊕ w_f) ∧ mask_i) over `words` 64-bit words,
/// for rows i < rows and filters f < filters: the dot product of ±1 vectors whose bits
/// are 1 for +1, restricted to the `valid_i` positions set in mask_i (mask NULL: all
/// positions; valid_i = valid[i], or valid_all when valid is NULL). Rows x_i and mask_i
/// are `words` words each, consecutive; wb comes from ql_xnor_pack_filters.
void ql_xnor_gemm(int level, const uint64_t *x, const uint64_t *mask, const int32_t *valid, int32_t valid_all,
                  size_t rows, size_t words, const uint64_t *wb, size_t filters, int32_t *out, size_t ldo);

#endif

#ifndef QUANTLAB_CBITKERNELS_EPILOGUE
#define QUANTLAB_CBITKERNELS_EPILOGUE
/// The packed engine's most common epilogue, vectorised: for rows r < rows and
/// channels k < channels,
///     v = (float)acc[r·ld + k] · scale[k] + bias[k]      (acc != NULL)
///     v = fsrc[r·ld + k·ldk] + bias[k]                   (otherwise)
///     v = v < 0 ? 0 : v                                  (relu != 0)
/// then, output 0: codes[(first_row + r)·channels + k] = roundEven(clamp(v, 0, clip)·inverse)
/// (NaN → 0, at most top); output 1: bit k of position (first_row + r) of the NHWC sign
/// bits (v ≥ 0 → 1), positions per sample, words_per_position 32-bit words per position,
/// samples half_words_per_sample 32-bit words apart (a padding word after an odd count
/// is zeroed). Float arithmetic in the order written, no contraction: the same values
/// as the Swift epilogue and the float path.
typedef struct {
    const int32_t *acc; const float *fsrc; size_t ld, ldk; size_t rows; size_t channels;
    const float *scale; const float *bias; int relu;
    int output; float clip, inverse, top; uint8_t *codes;
    uint32_t *half; size_t first_row, positions, words_per_position, half_words_per_sample;
    float *scratch;   /* channels floats */
} ql_epilogue_args;
void ql_epilogue(const ql_epilogue_args *a);
#endif

#ifndef QUANTLAB_CBITKERNELS_CONV_DIRECT
#define QUANTLAB_CBITKERNELS_CONV_DIRECT
/// Direct float convolution, position-major output (conv_direct.c): for image b < batch,
/// output position (i, j) and filter k < filters,
///     out[((b·OH + i)·OW + j)·ldo + k] = Σ over taps (c, ki, kj) inside the image, in that
///         order, acc = fmaf(x[b, c, i·S − P + ki, j·S − P + kj], wt[r·filters_padded + k], acc)
/// with r = (c·KH + ki)·KW + kj, x NCHW, wt the weights [R, filters_padded] (transposed,
/// zero past `filters`; filters_padded from ql_conv_direct_padded_filters). Level 2 uses
/// AVX-512, 1 AVX2 + FMA, 0 plain C, each only where the CPU has it; all give the same bits.
typedef struct {
    const float *x; size_t batch, channels, height, width;
    size_t kernel_h, kernel_w, stride, padding, out_height, out_width;
    const float *wt; size_t filters, filters_padded;
    float *out; size_t ldo;
} ql_conv_direct_args;
size_t ql_conv_direct_padded_filters(size_t filters);
void ql_conv_direct(int level, const ql_conv_direct_args *a);
#endif
