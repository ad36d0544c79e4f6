/**
 * The ACK cluster-check simulator: for the local demo (`checkwatch sim`), integration tests and
 * benchmarks. See {@link startSimulator}.
 */
export { startSimulator } from './server';
export { FAULT_KINDS } from './types';
export type {
  FaultKind,
  FaultSpec,
  SimAction,
  SimCheckSeed,
  SimCounters,
  SimOptions,
  Simulator,
} from './types';
export { GO_ZERO_TIME, RUNNING_STATUS } from './model';
