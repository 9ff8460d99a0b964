import { z } from 'zod';
import { stringOption } from '../../plugin-kit/plugin-options.js';

/** `["ssh-tunnel", {...}]`; an unknown key is ignored. */
export const sshTunnelOptions = z.object({
  /** The ssh executable. Default `ssh` on PATH. */
  command: stringOption.optional(),
});

export type SshTunnelOptions = z.input<typeof sshTunnelOptions>;
