// Local mode prints its own readable lines; the functions' JSON logs show only errors unless asked for.
// Imported first by main.ts, before any module creates the Powertools logger.
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
