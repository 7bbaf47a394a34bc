// libpq, the PostgreSQL C client library (Debian: libpq-dev). Used only by PostgresStorage.
#pragma once
#include <libpq-fe.h>
