import { pino } from 'pino';
import { silentLogger, type Logger } from '@crikit/core';

/** crikit's log for in-process runtimes in tests: silent, or pino on stderr at CRIKIT_TEST_LOG's level. */
export function testLogger(): Logger {
  const level = process.env.CRIKIT_TEST_LOG;
  return level ? pino({ level }, pino.destination(2)) : silentLogger;
}
