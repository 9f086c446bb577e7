import { z } from 'zod';

/** How container output becomes CRI log files. */
export const loggingConfigSchema = z.strictObject({
  /**
   * The longest line written as one log entry (containerd's `max_container_log_line_size`). A longer
   * line is split into `P` (partial) entries of this many bytes, then an `F` (full) entry with the rest.
   */
  maxLineBytes: z.number().int().positive().default(16 * 1024)
    .describe('the longest line written as one CRI log entry (containerd\'s max_container_log_line_size); a longer line is split into P entries of this size, then an F entry with the rest'),
});
export type LoggingConfig = z.infer<typeof loggingConfigSchema>;
export const LoggingConfig = Symbol('LoggingConfig');
