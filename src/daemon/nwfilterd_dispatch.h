/* The RPC dispatch interface served by the real driver (src/nwfilter). */
#pragma once

#include "nwfilter/driver.h"
#include "rpc/rpc_dispatch.h"

/* Use with the NwfDriver* as the driver pointer. */
extern const NwfRpcDriverOps nwf_daemon_driver_ops;
