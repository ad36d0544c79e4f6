import type { AckApi } from '../ack/api';
import type { AckClientOptions } from '../ack/client';
import type { CredentialSource } from '../credentials';
import { credentialSource } from '../credentials';
import type { SimOptions, Simulator } from '../sim/index';

/**
 * The adapters the CLI wires (STYLE.md 3): real ones by default, swappable in tests (a credential
 * chain that does not read the host's ~/.aliyun, for instance). Built per run, never module state.
 */
export interface CliDeps {
  createAck(options: AckClientOptions): Promise<AckApi & { close(): Promise<void> }>;
  credentials(env: NodeJS.ProcessEnv): CredentialSource;
  startSimulator(options: SimOptions): Promise<Simulator>;
}

/**
 * The ACK client (undici, zod) and the simulator are imported on first use: `--help`, `--version`
 * and usage errors then answer without loading them (esbuild keeps dynamic imports lazy).
 */
export const defaultDeps: CliDeps = {
  createAck: async (options) => {
    const { AckClient } = await import('../ack/client');
    return new AckClient(options);
  },
  credentials: (env) => credentialSource(env),
  startSimulator: async (options) => {
    const { startSimulator } = await import('../sim/index');
    return startSimulator(options);
  },
};
