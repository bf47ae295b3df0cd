// cairo 2-D graphics (Debian libcairo2-dev): the PNG and PDF output of quantlab's plots.
#include <cairo/cairo.h>
#include <cairo/cairo-pdf.h>
