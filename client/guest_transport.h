#ifndef GUEST_TRANSPORT_H
#define GUEST_TRANSPORT_H

#include "guest.h"
#include "libtaskvisor.h"

extern const struct tv_transport guest_transport;

#endif
