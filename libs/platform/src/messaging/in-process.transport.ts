import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { ClientProxy, CustomTransportStrategy, ReadPacket, Server, WritePacket } from '@nestjs/microservices';
import { BaseRpcContext } from '@nestjs/microservices/ctx-host/base-rpc.context';
import { isObservable, lastValueFrom } from 'rxjs';

/**
 * The all-in-one runner's transport: the same message patterns as NATS, carried
 * by one process-wide emitter, so every app of the suite can run in one
 * process with nothing else installed (the all-in-one runner).
 */
const bus = new EventEmitter();
bus.setMaxListeners(0);

type Responder = (data: unknown) => Promise<unknown>;
const responders = new Map<string, Responder[]>();

class InProcessContext extends BaseRpcContext<[string]> {
  getPattern(): string {
    return this.args[0];
  }
}

export class InProcessServer extends Server implements CustomTransportStrategy {
  private readonly listeners: Array<[string, (d: unknown) => void]> = [];
  private readonly responding: Array<[string, Responder]> = [];

  listen(callback: () => void): void {
    for (const [pattern, handler] of this.messageHandlers) {
      if (handler.isEventHandler) {
        // Bound to the context listen() runs in (the app's, see bootApp), not the emitter's:
        // in the all-in-one process the emitter is another app.
        const fn = AsyncResource.bind((data: unknown) => {
          void this.handleEvent(pattern, { pattern, data }, new InProcessContext([pattern])).catch((err: unknown) =>
            this.logger.error(`in-process handler for ${pattern} failed: ${String(err)}`),
          );
        });
        bus.on(pattern, fn);
        this.listeners.push([pattern, fn]);
      } else {
        const respond: Responder = AsyncResource.bind(async (data: unknown) => {
          const result = await handler(data, new InProcessContext([pattern]));
          return isObservable(result) ? lastValueFrom(result) : result;
        });
        responders.set(pattern, [...(responders.get(pattern) ?? []), respond]);
        this.responding.push([pattern, respond]);
      }
    }
    callback();
  }

  close(): void {
    for (const [pattern, fn] of this.listeners) bus.off(pattern, fn);
    for (const [pattern, fn] of this.responding) {
      responders.set(
        pattern,
        (responders.get(pattern) ?? []).filter((r) => r !== fn),
      );
    }
    this.listeners.length = 0;
    this.responding.length = 0;
  }

  on(): void {
    /* no transport-level events in-process */
  }

  unwrap<T>(): T {
    return bus as unknown as T;
  }
}

export class InProcessClient extends ClientProxy {
  async connect(): Promise<void> {
    /* always connected */
  }

  close(): void {
    /* nothing to release */
  }

  unwrap<T>(): T {
    return bus as unknown as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const candidates = responders.get(packet.pattern) ?? [];
    // Like a NATS request: any one responder answers; none is "no responders".
    const responder = candidates[Math.floor(Math.random() * candidates.length)];
    if (!responder) {
      setImmediate(() => callback({ err: new Error(`no responders for ${packet.pattern}`), isDisposed: true }));
      return () => undefined;
    }
    responder(packet.data).then(
      (response) => callback({ response, isDisposed: true }),
      (err: unknown) => callback({ err, isDisposed: true }),
    );
    return () => undefined;
  }

  protected async dispatchEvent<T>(packet: ReadPacket): Promise<T> {
    // Asynchronous like a network hop, so an emitter never runs a handler inside its own call stack.
    setImmediate(() => bus.emit(packet.pattern, packet.data));
    return undefined as T;
  }
}
