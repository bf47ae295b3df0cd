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
