/**
 * Dispatch in-process: `checkwatch serve` (SQLite, one process) and the demo. It keeps the semantics
 * of an asynchronous FC invocation so the use cases cannot tell the difference: `dispatch` returns
 * before the handler runs, a failure of the handler is logged (never thrown back to the dispatcher),
 * and a task id already running is answered `duplicate`, as FC answers 409.
 */
import { silentLogger, type Logger } from '../log';
import {
  DispatchError,
  taskIdFor,
  type DispatchRequest,
  type DispatchResult,
  type Dispatcher,
} from './dispatch';

export interface InlineHandlers {
  notify(clusterId: string, checkId: string): Promise<void>;
  pollShard?(shard: number): Promise<void>;
}

export interface InlineDispatcher extends Dispatcher {
  /** Resolves once every handler started so far — and any it dispatched in turn — has settled. */
  drain(): Promise<void>;
  /** Task ids currently running. */
  readonly inFlight: number;
}

/**
 * A {@link Dispatcher} that runs the handler in this process, in the background.
 * Only concurrent duplicates are suppressed: once a task has settled, the same task id runs again
 * (the handlers are idempotent, and a long-lived process must not remember every id it ever saw).
 */
export function createInlineDispatcher(
  handlers: InlineHandlers,
  opts: { log?: Logger } = {},
): InlineDispatcher {
  const log = opts.log ?? silentLogger;
  const running = new Map<string, Promise<void>>();

  const run = (req: DispatchRequest): Promise<void> => {
    switch (req.kind) {
      case 'notify':
        return handlers.notify(req.clusterId, req.checkId);
      case 'poll-shard':
        if (handlers.pollShard === undefined) throw new Error('unreachable: checked before dispatch');
        return handlers.pollShard(req.shard);
      default: {
        const never: never = req;
        return never;
      }
    }
  };

  return {
    dispatch(req: DispatchRequest): Promise<DispatchResult> {
      const taskId = taskIdFor(req);
      if (req.kind === 'poll-shard' && handlers.pollShard === undefined) {
        return Promise.reject(
          new DispatchError('inline dispatcher has no poll-shard handler', {
            retryable: false,
            details: { taskId },
          }),
        );
      }
      if (running.has(taskId)) return Promise.resolve({ status: 'duplicate' });
      // Started on a later microtask: like an async invocation, the handler never runs inside the
      // dispatcher's own call stack (and a synchronous throw becomes a logged failure).
      const task = Promise.resolve()
        .then(() => run(req))
        .then(
          () => {
            log.debug('inline task done', { taskId, kind: req.kind });
          },
          (err: unknown) => {
            log.error('inline task failed', { taskId, kind: req.kind, error: err });
          },
        )
        .finally(() => {
          running.delete(taskId);
        });
      running.set(taskId, task);
      return Promise.resolve({ status: 'dispatched', requestId: taskId });
    },

    async drain(): Promise<void> {
      // Handlers may dispatch more work while we wait: loop until nothing is left.
      while (running.size > 0) {
        await Promise.all(running.values());
      }
    },

    get inFlight(): number {
      return running.size;
    },
  };
}
