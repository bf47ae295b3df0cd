#include <oneapi/dnnl/dnnl.h>
// Debian's libdnnl runs on OpenMP (libgomp). The thread count is an OpenMP
// per-thread setting: a new thread starts with the process default (all cores),
// so every thread that calls oneDNN sets its own count first.
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);

/// Sets this thread's OpenMP thread count to `n` once (cheap on later calls).
static inline void quantlab_dnnl_thread_setup(int n) {
    static _Thread_local int current = 0;
    if (current != n) { omp_set_num_threads(n); current = n; }
}

// bfloat16 × bfloat16 → fp32 GEMM, row-major, with the contract of dnnl_sgemm
// (A and B as raw bfloat16 bits). libdnnl exports it (src/cpu/gemm/gemm.cpp, 2.x
// and 3.x) but its public header does not declare it; oneDNN's own gtests and Intel's
// TensorFlow extension declare it the same way. It runs avx512_bf16 `vdpbf16ps`
// where present and returns an error status where oneDNN has no bf16 GEMM.
dnnl_status_t dnnl_gemm_bf16bf16f32(char transa, char transb, dnnl_dim_t M,
        dnnl_dim_t N, dnnl_dim_t K, float alpha, const uint16_t *A,
        dnnl_dim_t lda, const uint16_t *B, dnnl_dim_t ldb, float beta,
        float *C, dnnl_dim_t ldc);
