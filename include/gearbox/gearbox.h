// The Gearbox client library: one include for applications.
// See each header for ownership and thread-safety; docs/client-library.md for the guide.
#pragma once

#include "gearbox/admin.h"
#include "gearbox/client.h"
#include "gearbox/error.h"
#include "gearbox/servers.h"
#include "gearbox/unique.h"
#include "gearbox/worker.h"
