// Private to CBitKernels: the loop over the taps of one convolution output.
#ifndef QUANTLAB_CBITKERNELS_TAPS
#define QUANTLAB_CBITKERNELS_TAPS

/// Runs the statements after it for each tap (ki, kj) of output (I, J) whose input
/// position (ih, iw) = (I·S − P + ki, J·S − P + kj) lies inside H × W, in (ki, kj) order.
#define QL_FOR_TAPS_INSIDE(I, J, S, P, KH, KW, H, W, ...)                                  \
    for (size_t ki = 0; ki < (KH); ki++) {                                                 \
        long ih = (long)((I) * (S) + ki) - (long)(P);                                      \
        if (ih < 0 || ih >= (long)(H)) continue;                                           \
        for (size_t kj = 0; kj < (KW); kj++) {                                             \
            long iw = (long)((J) * (S) + kj) - (long)(P);                                  \
            if (iw < 0 || iw >= (long)(W)) continue;                                       \
            __VA_ARGS__                                                                    \
        }                                                                                  \
    }

#endif
