import type { Logger } from 'pino';
import type { SyscheckConfig } from '../core/config/custos-config.js';
import { ConfigResponse } from '../protocol/wire.js';
import { callManager, type ManagerEndpoint } from './manager-client.js';

/**
 * The FIM settings an agent runs with: its local ones, replaced by the configuration the manager serves
 * (`GET /v1/config`, like OSSEC's agent.conf) while it serves one, and back to the local ones when it stops. A
 * failure to ask keeps what is in effect.
 */
export class CentralConfigPoller {
  #current: SyscheckConfig;
  #version: string | undefined;

  constructor(
    private readonly local: SyscheckConfig,
    private readonly parse: (yaml: string) => SyscheckConfig,
    private readonly endpoint: ManagerEndpoint,
    private readonly log: Logger,
  ) {
    this.#current = local;
  }

  /** The settings in effect now. */
  get current(): SyscheckConfig {
    return this.#current;
  }

  /** The version (SHA-256) of the central configuration in effect, or undefined for the local one. */
  get version(): string | undefined {
    return this.#version;
  }

  /** Asks the manager; true when the settings in effect changed (the caller rescans and re-watches). */
  async poll(): Promise<boolean> {
    try {
      const reply = await callManager(this.endpoint, 'GET', '/v1/config');
      if (reply.status === 204 && this.#version !== undefined) {
        // The manager no longer serves one (a group's configuration withdrawn): back to this host's own.
        this.#current = this.local;
        this.#version = undefined;
        this.log.info('the manager serves no configuration any more: using the local one again');
        return true;
      }
      if (reply.status !== 200) return false;
      const body = ConfigResponse.safeParse(reply.body);
      if (!body.success || body.data.version === this.#version) return false;
      this.#current = this.parse(body.data.yaml);
      this.#version = body.data.version;
      this.log.info({ version: body.data.version.slice(0, 12) }, 'using the configuration the manager serves');
      return true;
    } catch (error) {
      this.log.warn({ reason: (error as Error).message }, 'could not fetch the central configuration; keeping the current one');
      return false;
    }
  }
}
