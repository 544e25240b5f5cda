/**
 * The gate's own TCP listener, handing connections to grpc-js through a connection injector, so that
 * it bounds them before gRPC sees them: a handshake deadline, a cap on open connections (at the cap the
 * oldest connection still handshaking is evicted, so idle sockets cannot lock real clients out), and
 * TLS done here (a `tls.Server` that never listens verifies client certificates). grpc-js then serves
 * the established connection as plaintext HTTP/2 over the TLS socket; the call's auth context still
 * sees the verified peer certificate (it reads it from the TLS socket). Idle and keepalive limits are
 * grpc-js server options (see `connectionServerOptions`).
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { ConnectionLimits, TlsOptions } from './security';

export interface ListenOptions {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
  readonly tls?: TlsOptions;
  readonly limits: ConnectionLimits;
  readonly logger: Logger;
}

export interface ConnectionStats {
  /** Open TCP connections, handshaking or established. */
  readonly open: number;
  readonly handshaking: number;
  /** Closed for missing the handshake deadline. */
  readonly timedOut: number;
  /** Handshaking connections closed to admit a newer one at the cap. */
  readonly evicted: number;
  /** New connections refused at the cap (every open connection was established). */
  readonly refused: number;
}

export interface GateListener {
  readonly port: number;
  stats(): ConnectionStats;
  /**
   * Stops accepting and closes connections still handshaking; resolves when every connection has closed
   * (established ones close with the gRPC server's shutdown), destroying those still open after `graceMs`.
   */
  close(graceMs: number): Promise<void>;
}

const WARN_EVERY_MS = 10_000;

/** grpc-js server options for the idle and keepalive limits. */
export function connectionServerOptions(limits: ConnectionLimits): grpc.ServerOptions {
  return {
    'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
  };
}

interface Pending {
  readonly socket: net.Socket;
  readonly timer: NodeJS.Timeout;
}

export async function listen(server: grpc.Server, options: ListenOptions): Promise<GateListener> {
  const { limits, logger } = options;
  // TLS is terminated here, so grpc-js gets the established stream as plaintext HTTP/2.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const tlsServer = options.tls ? tlsTerminator(options.tls, limits) : undefined;
  // Insertion order = age: the first entry is the oldest connection still handshaking.
  const pending = new Map<string, Pending>();
  const counts = { open: 0, timedOut: 0, evicted: 0, refused: 0 };
  const sockets = new Set<net.Socket>();
  let lastWarning = 0;
  const warn = (msg: string): void => {
    if (Date.now() - lastWarning < WARN_EVERY_MS) return;
    lastWarning = Date.now();
    logger.warn({ ...counts, handshaking: pending.size, max: limits.maxConnections }, msg);
  };
  const keyOf = (s: net.Socket): string => `${s.remoteAddress}|${s.remotePort}`;
  const established = (key: string): void => {
    const p = pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(key);
  };

  tlsServer?.on('secureConnection', (socket: tls.TLSSocket) => {
    established(keyOf(socket));
    injector.injectConnection(socket);
  });
  // A failed handshake (no or untrusted client certificate, garbage): tls.Server destroys the socket.
  tlsServer?.on('tlsClientError', () => undefined);

  const accept = (socket: net.Socket): void => {
    if (counts.open >= limits.maxConnections) {
      const oldest = pending.values().next().value as Pending | undefined;
      if (!oldest) {
        counts.refused++;
        warn('connection cap reached with every connection established: refusing new connections');
        socket.destroy();
        return;
      }
      counts.evicted++;
      warn('connection cap reached: evicting the oldest connections still handshaking');
      oldest.socket.destroy();
    }
    counts.open++;
    sockets.add(socket);
    const key = keyOf(socket);
    socket.once('close', () => {
      counts.open--;
      sockets.delete(socket);
      established(key);
    });
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      counts.timedOut++;
      socket.destroy();
    }, limits.handshakeTimeoutMs);
    timer.unref();
    pending.set(key, { socket, timer });
    if (tlsServer) {
      tlsServer.emit('connection', socket);
      return;
    }
    // Plaintext (loopback only): the client's first bytes (the HTTP/2 preface) end the handshake. Until
    // then the socket stays ours, so the timeout and eviction can close it; the bytes read are put back
    // for HTTP/2, which processes a socket's buffered data when it takes the socket over.
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      established(key);
      injector.injectConnection(socket);
    });
  };

  const netServer = net.createServer({ noDelay: true }, accept);
  const port = await new Promise<number>((resolve, reject) => {
    netServer.once('error', reject);
    netServer.listen({ host: options.host, port: options.port }, () => {
      netServer.off('error', reject);
      resolve((netServer.address() as net.AddressInfo).port);
    });
  });
  return {
    port,
    stats: () => ({ ...counts, handshaking: pending.size }),
    close: (graceMs) => {
      const closed = new Promise<void>((resolve) => netServer.close(() => resolve()));
      for (const p of pending.values()) p.socket.destroy();
      // A shutdown must not hang on a peer that never closes: the audit and fills are written after it.
      const deadline = setTimeout(() => sockets.forEach((s) => s.destroy()), graceMs);
      deadline.unref();
      return closed.finally(() => clearTimeout(deadline));
    },
  };
}

function tlsTerminator(options: TlsOptions, limits: ConnectionLimits): tls.Server {
  const mtls = options.clientCa !== undefined;
  return tls.createServer({
    cert: options.cert,
    key: options.key,
    ca: options.clientCa,
    // With a client CA, a connection without a certificate it signed never completes the handshake.
    requestCert: mtls,
    rejectUnauthorized: mtls,
    ALPNProtocols: ['h2'],
    minVersion: 'TLSv1.2',
    handshakeTimeout: limits.handshakeTimeoutMs,
  });
}
