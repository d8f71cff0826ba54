/**
 * sysexits' EX_CONFIG: edged refused to start for a reason that starting again will not fix (a bad configuration,
 * a damaged database, a read-only data directory). The service unit does not restart on it.
 */
export const EX_CONFIG = 78;
