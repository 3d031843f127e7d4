/* signals — see signals.h. */
#include "sim/signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t pending;

static void on_stop(int sig) {
    if (!pending) pending = sig;
}

void signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGXFSZ, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
}

int signals_pending(void) {
    return pending;
}
