// ZeroMQ's C API (Debian: libzmq3-dev), for the Jupyter kernel's sockets.
// Only plain functions are used from Swift: zmq_ctx_new, zmq_socket, zmq_bind,
// zmq_setsockopt/getsockopt, zmq_msg_* (multipart frames), zmq_poll, zmq_close.
#include <zmq.h>
