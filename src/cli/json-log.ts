import { type Logger, pino } from 'pino';
import type { LogLevel } from '../config.js';

/**
 * The log of a long-running command (server, agent): one JSON object per line on stderr, with
 * `level` as a word, an ISO `time`, the `service`, and `reqId` on lines about a request.
 */
export function jsonLogger(service: 'server' | 'agent', level: LogLevel): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2 }),
  );
}
