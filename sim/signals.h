/* signals — stopping cleanly. SIGINT and SIGTERM become a request that the loop honours at
 * its next safe point (between phases of a round): the last round's checkpoint is on disk,
 * the run is resumable, and alsim exits 130 or 143. SIGXFSZ (a file-size limit) and SIGPIPE
 * are ignored, so a write past a limit fails with an error alsim reports (exit 3) instead of
 * killing the process mid-file. Only main calls signals_install. */
#ifndef ALSIM_SIGNALS_H
#define ALSIM_SIGNALS_H

/* Installs the handlers. */
void signals_install(void);

/* 0, or the number of the first SIGINT/SIGTERM received since signals_install. */
int signals_pending(void);

#endif
