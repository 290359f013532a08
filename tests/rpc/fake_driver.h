/* An in-memory driver behind the RPC dispatch interface, with libvirt's
 * error codes and messages for the cases the server tests exercise. */
#pragma once

#include "rpc/rpc_dispatch.h"

typedef struct _FakeDriver FakeDriver;

extern const NwfRpcDriverOps fake_driver_ops;

FakeDriver *fake_driver_new(void);
void fake_driver_free(FakeDriver *fake);
/* Every define sleeps this long first (keepalive-during-slow-call tests). */
void fake_driver_set_define_delay(FakeDriver *fake, guint msec);
/* Driver calls made so far. */
guint fake_driver_calls(FakeDriver *fake);
